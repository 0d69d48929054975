#include "identity/identity_key.h"

#include <fcntl.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace plexus::identity {

std::optional<IdentityPublicKey> IdentityPublicKey::FromBytes(ByteSpan b) {
  if (b.size() != kEd25519PublicKeySize) return std::nullopt;
  ByteArray<kEd25519PublicKeySize> raw;
  std::memcpy(raw.data(), b.data(), raw.size());
  return IdentityPublicKey(raw);
}

Result<IdentityPublicKey> IdentityPublicKey::FromPkey(const EVP_PKEY* pkey) {
  if (pkey == nullptr || EVP_PKEY_get_id(pkey) != EVP_PKEY_ED25519) {
    return MakeError("not an Ed25519 key");
  }
  ByteArray<kEd25519PublicKeySize> raw;
  size_t len = raw.size();
  if (EVP_PKEY_get_raw_public_key(pkey, U8(MutableByteSpan(raw)), &len) != 1 || len != raw.size()) {
    return OpenSslError("reading the Ed25519 public key");
  }
  return IdentityPublicKey(raw);
}

std::string IdentityPublicKey::ToHex() const {
  return plexus::ToHex(b_);
}

Result<EvpPkeyPtr> IdentityPublicKey::ToPkey() const {
  EvpPkeyPtr pkey(EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr, U8(span()), b_.size()));
  if (!pkey) return OpenSslError("making an Ed25519 public key");
  return pkey;
}

bool IdentityPublicKey::Verify(ByteSpan message, ByteSpan signature) const {
  Result<EvpPkeyPtr> pkey = ToPkey();
  EvpMdCtxPtr ctx(EVP_MD_CTX_new());
  if (!pkey || !ctx) return false;
  bool ok = EVP_DigestVerifyInit(ctx.get(), nullptr, nullptr, nullptr, pkey->get()) == 1 &&
            EVP_DigestVerify(ctx.get(), U8(signature), signature.size(), U8(message),
                             message.size()) == 1;
  ERR_clear_error();
  return ok;
}

Result<IdentityKey> IdentityKey::FromPkey(EvpPkeyPtr pkey) {
  Result<IdentityPublicKey> pub = IdentityPublicKey::FromPkey(pkey.get());
  if (!pub) return pub.error();
  return IdentityKey(std::move(pkey), *pub);
}

Result<IdentityKey> IdentityKey::Generate() {
  EvpPkeyPtr pkey(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"));
  if (!pkey) return OpenSslError("generating an Ed25519 key");
  return FromPkey(std::move(pkey));
}

Result<IdentityKey> IdentityKey::FromPem(std::string_view pem) {
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!bio) return OpenSslError("reading a private key");
  EvpPkeyPtr pkey(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
  if (!pkey) return OpenSslError("not a PEM private key");
  if (EVP_PKEY_get_id(pkey.get()) != EVP_PKEY_ED25519) {
    return MakeError("private key is {}, not Ed25519", EVP_PKEY_get0_type_name(pkey.get()));
  }
  return FromPkey(std::move(pkey));
}

Result<IdentityKey> IdentityKey::LoadPemFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return MakeError("{}: cannot open: {}", path, std::strerror(errno));
  std::stringstream text;
  text << in.rdbuf();
  Result<IdentityKey> key = FromPem(text.str());
  if (!key) return key.error().Wrap(path);
  return key;
}

Result<std::string> IdentityKey::ToPem() const {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_PrivateKey(bio.get(), pkey_.get(), nullptr, nullptr, 0, nullptr,
                                       nullptr) != 1) {
    return OpenSslError("writing the private key as PEM");
  }
  std::string pem = BioContents(bio.get());
  return pem;
}

Status IdentityKey::SavePemFile(const std::string& path) const {
  Result<std::string> pem = ToPem();
  if (!pem) return pem.error();
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return MakeError("{}: cannot create: {}", path, std::strerror(errno));
  ssize_t n = ::write(fd, pem->data(), pem->size());
  int write_errno = errno;
  OPENSSL_cleanse(pem->data(), pem->size());
  if (::close(fd) != 0 || n != static_cast<ssize_t>(pem->size())) {
    return MakeError("{}: cannot write: {}", path, std::strerror(write_errno));
  }
  return Ok();
}

Result<Ed25519Signature> IdentityKey::Sign(ByteSpan message) const {
  EvpMdCtxPtr ctx(EVP_MD_CTX_new());
  Ed25519Signature sig;
  size_t len = sig.size();
  if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, nullptr, nullptr, pkey_.get()) != 1 ||
      EVP_DigestSign(ctx.get(), U8(MutableByteSpan(sig)), &len, U8(message), message.size()) != 1 ||
      len != sig.size()) {
    return OpenSslError("Ed25519 signing");
  }
  return sig;
}

}  // namespace plexus::identity
