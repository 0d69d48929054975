#include "base/ip.h"

// Implementation pending (node/config work fills this in with ip_test.cc).
