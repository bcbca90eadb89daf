/* How a C caller passes enum arguments: any int (C enums are ints), which C++
 * code may not even form as an enum value. fuzz_sequence.cpp calls these. */
#include "subinterp.h"

const char *fuzz_kind_name_from_c(int kind) { return subinterp_data_kind_name((subinterp_data_kind)kind); }

subinterp_status fuzz_config_init_from_c(subinterp_config *config, int preset) {
    return subinterp_config_init(config, (subinterp_config_preset)preset);
}
