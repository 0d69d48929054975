#include "cli/key_commands.h"

#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <string>

#include "base/random.h"
#include "crypto/x25519.h"

namespace plexus::cli {
namespace {

// More than any base64 key plus whitespace; longer input is not a key.
constexpr size_t kMaxKeyInput = 1024;

// Like wg(8): warn when the key is being written to a file others can read.
void WarnIfStdoutIsWorldAccessible() {
  struct stat st {};
  if (fstat(STDOUT_FILENO, &st) != 0 || !S_ISREG(st.st_mode)) return;
  if ((st.st_mode & (S_IROTH | S_IWOTH)) == 0) return;
  std::fputs("Warning: writing a private key to a file all users can read (try umask 077)\n",
             stderr);
}

// Reads stdin up to kMaxKeyInput bytes; false when it is longer.
bool ReadStdin(std::string& out) {
  out.assign(kMaxKeyInput + 1, '\0');
  size_t n = std::fread(out.data(), 1, out.size(), stdin);
  out.resize(n);
  return n <= kMaxKeyInput;
}

}  // namespace

GenkeyCommand::GenkeyCommand(CLI::App& parent)
    : app_(parent.add_subcommand("genkey", "Print a new base64 private key (as `wg genkey`)")) {}

int GenkeyCommand::Run() const {
  WarnIfStdoutIsWorldAccessible();
  SystemRandom random;
  std::string text = crypto::PrivateKey::Generate(random).ToBase64();
  std::printf("%s\n", text.c_str());
  sodium_memzero(text.data(), text.size());
  return std::fflush(stdout) == 0 ? 0 : 1;
}

PubkeyCommand::PubkeyCommand(CLI::App& parent)
    : app_(parent.add_subcommand(
          "pubkey", "Read a base64 private key on stdin, print its public key (as `wg pubkey`)")) {}

int PubkeyCommand::Run() const {
  std::string input;
  bool fits = ReadStdin(input);
  auto key = fits ? crypto::PrivateKey::FromBase64(input) : std::nullopt;
  sodium_memzero(input.data(), input.size());
  if (!key) {
    std::fputs("plexus pubkey: stdin is not a base64 32-byte private key\n", stderr);
    return 1;
  }
  std::printf("%s\n", key->Public().ToBase64().c_str());
  return std::fflush(stdout) == 0 ? 0 : 1;
}

}  // namespace plexus::cli
