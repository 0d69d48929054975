#include "base/ip.h"
