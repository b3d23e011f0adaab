// Fused forward/backward kernels of the decoder blocks (see fused_ops.cc).
#pragma once
#include <vector>

#include "napi_util.h"

namespace tslm {

std::vector<Export> fused_exports();

}  // namespace tslm
