#include "identity/openssl_util.h"

#include <openssl/err.h>

namespace plexus::identity {

Error OpenSslError(std::string_view what) {
  std::string detail;
  char buf[256];
  while (unsigned long code = ERR_get_error()) {
    ERR_error_string_n(code, buf, sizeof buf);
    if (!detail.empty()) detail += "; ";
    detail += buf;
  }
  if (detail.empty()) detail = "no OpenSSL error detail";
  return MakeError("{}: {}", what, detail);
}

std::string BioContents(BIO* bio) {
  char* data = nullptr;
  long n = BIO_get_mem_data(bio, &data);
  return n > 0 ? std::string(data, static_cast<size_t>(n)) : std::string();
}

}  // namespace plexus::identity
