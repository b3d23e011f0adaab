// Strided copies, casts and reductions (see layout.cc).
#pragma once
#include <vector>

#include "napi_util.h"

namespace tslm {

std::vector<Export> layout_exports();

}  // namespace tslm
