// Elementwise, reduction, softmax and layout kernels that replace TF.js's
// single-threaded wasm ones.
#pragma once
#include <vector>

#include "napi_util.h"

namespace tslm {

/** The Node-API functions this module adds to the addon's exports. */
std::vector<Export> elementwise_exports();

}  // namespace tslm
