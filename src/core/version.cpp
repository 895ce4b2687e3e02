#include "gpurnn/version.h"

namespace gpurnn {

const char* version() { return GPURNN_VERSION_STRING; }

}  // namespace gpurnn
