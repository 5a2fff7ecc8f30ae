// SPDX-License-Identifier: MIT
// The Buntime app SDK under its short name: apps `#include <buntime/app.h>` (see the README).
#pragma once

#include "buntime/app/app.h"
