#include "identity/identity_key.h"

#include <gtest/gtest.h>
#include <openssl/pem.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <string>

namespace plexus::identity {
namespace {

IdentityKey Generate() {
  Result<IdentityKey> k = IdentityKey::Generate();
  EXPECT_TRUE(k.ok());
  return std::move(*k);
}

TEST(IdentityKeyTest, SignatureVerifiesOnlyForSameMessageAndKey) {
  IdentityKey key = Generate();
  Result<Ed25519Signature> sig = key.Sign(AsBytes("hello"));
  ASSERT_TRUE(sig.ok());
  EXPECT_TRUE(key.public_key().Verify(AsBytes("hello"), *sig));
  EXPECT_FALSE(key.public_key().Verify(AsBytes("hellO"), *sig));
  EXPECT_FALSE(Generate().public_key().Verify(AsBytes("hello"), *sig));
  Ed25519Signature bad = *sig;
  bad[10] ^= std::byte{1};
  EXPECT_FALSE(key.public_key().Verify(AsBytes("hello"), bad));
  EXPECT_FALSE(key.public_key().Verify(AsBytes("hello"), ByteSpan(*sig).first(63)));
}

TEST(IdentityKeyTest, GeneratesDistinctKeys) {
  EXPECT_NE(Generate().public_key(), Generate().public_key());
}

TEST(IdentityKeyTest, PemRoundTripKeepsTheKey) {
  IdentityKey key = Generate();
  Result<std::string> pem = key.ToPem();
  ASSERT_TRUE(pem.ok());
  EXPECT_NE(pem->find("-----BEGIN PRIVATE KEY-----"), std::string::npos);
  Result<IdentityKey> back = IdentityKey::FromPem(*pem);
  ASSERT_TRUE(back.ok()) << back.error().message();
  EXPECT_EQ(back->public_key(), key.public_key());
  Result<Ed25519Signature> sig = back->Sign(AsBytes("m"));
  ASSERT_TRUE(sig.ok());
  EXPECT_TRUE(key.public_key().Verify(AsBytes("m"), *sig));
}

TEST(IdentityKeyTest, FileRoundTripIsPrivate) {
  IdentityKey key = Generate();
  std::string path =
      ::testing::TempDir() + "/identity_key_test." + std::to_string(getpid()) + ".pem";
  ASSERT_TRUE(key.SavePemFile(path).ok());
  struct stat st {};
  ASSERT_EQ(stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  Result<IdentityKey> back = IdentityKey::LoadPemFile(path);
  ASSERT_TRUE(back.ok()) << back.error().message();
  EXPECT_EQ(back->public_key(), key.public_key());
  std::remove(path.c_str());
}

TEST(IdentityKeyTest, RejectsGarbageAndNonEd25519Keys) {
  Result<IdentityKey> garbage = IdentityKey::FromPem("not a key");
  ASSERT_FALSE(garbage.ok());
  EXPECT_NE(garbage.error().message().find("not a PEM private key"), std::string::npos);

  EvpPkeyPtr x25519(EVP_PKEY_Q_keygen(nullptr, nullptr, "X25519"));
  ASSERT_TRUE(x25519);
  BioPtr bio(BIO_new(BIO_s_mem()));
  ASSERT_EQ(
      PEM_write_bio_PrivateKey(bio.get(), x25519.get(), nullptr, nullptr, 0, nullptr, nullptr), 1);
  Result<IdentityKey> wrong = IdentityKey::FromPem(BioContents(bio.get()));
  ASSERT_FALSE(wrong.ok());
  EXPECT_NE(wrong.error().message().find("not Ed25519"), std::string::npos)
      << wrong.error().message();

  Result<IdentityKey> missing = IdentityKey::LoadPemFile("/nonexistent/key.pem");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message().find("/nonexistent/key.pem"), std::string::npos);
}

TEST(IdentityPublicKeyTest, FromBytesNeedsExactly32) {
  Bytes b(32, std::byte{7});
  EXPECT_TRUE(IdentityPublicKey::FromBytes(b).has_value());
  b.pop_back();
  EXPECT_FALSE(IdentityPublicKey::FromBytes(b).has_value());
}

}  // namespace
}  // namespace plexus::identity
