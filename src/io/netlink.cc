#include "io/netlink.h"

#include <linux/if_addr.h>
#include <linux/netlink.h>
#include <net/if.h>  // before the linux/ headers: glibc and uapi both define IFF_*
#include <sys/socket.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <functional>
#include <thread>

namespace plexus::io {

namespace {

constexpr size_t kReceiveBufferSize = 64 * 1024;

size_t Align(size_t n) {
  return (n + 3) & ~size_t{3};
}

// Builds one netlink request: nlmsghdr, a fixed family struct, attributes.
class MessageBuilder {
 public:
  MessageBuilder(uint16_t type, uint16_t flags) {
    nlmsghdr h{};
    h.nlmsg_type = type;
    h.nlmsg_flags = NLM_F_REQUEST | flags;
    Append(&h, sizeof h);
  }
  template <typename T>
  void AddStruct(const T& s) {
    Append(&s, sizeof s);
  }
  void AddAttribute(uint16_t type, const void* data, size_t size) {
    rtattr a{};
    a.rta_type = type;
    a.rta_len = static_cast<uint16_t>(RTA_LENGTH(size));
    Append(&a, sizeof a);
    Append(data, size);
  }
  void AddU32(uint16_t type, uint32_t v) { AddAttribute(type, &v, sizeof v); }
  void AddAddress(uint16_t type, const IpAddress& a) {
    AddAttribute(type, a.bytes().data(), a.bytes().size());
  }
  // The finished message with `sequence` filled in.
  std::span<const std::byte> Finish(uint32_t sequence) {
    auto* h = reinterpret_cast<nlmsghdr*>(buffer_.data());
    h->nlmsg_len = static_cast<uint32_t>(buffer_.size());
    h->nlmsg_seq = sequence;
    return buffer_;
  }

 private:
  void Append(const void* data, size_t size) {
    const auto* p = static_cast<const std::byte*>(data);
    buffer_.insert(buffer_.end(), p, p + size);
    buffer_.resize(Align(buffer_.size()));
  }
  std::vector<std::byte> buffer_;
};

// Calls `f(type, payload)` for each rtattr in `attributes`.
void ForEachAttribute(std::span<const std::byte> attributes,
                      const std::function<void(uint16_t, std::span<const std::byte>)>& f) {
  while (attributes.size() >= sizeof(rtattr)) {
    rtattr a;
    std::memcpy(&a, attributes.data(), sizeof a);
    if (a.rta_len < sizeof a || a.rta_len > attributes.size()) return;
    f(a.rta_type, attributes.subspan(RTA_LENGTH(0), a.rta_len - RTA_LENGTH(0)));
    attributes = attributes.subspan(std::min<size_t>(Align(a.rta_len), attributes.size()));
  }
}

uint32_t ReadU32(std::span<const std::byte> b) {
  uint32_t v = 0;
  if (b.size() >= 4) std::memcpy(&v, b.data(), 4);
  return v;
}

uint8_t FamilyCode(IpFamily f) {
  return f == IpFamily::kV4 ? AF_INET : AF_INET6;
}

// The text of an error ack: strerror plus the extended ack message if any.
std::string ErrorText(const nlmsghdr& h, std::span<const std::byte> whole) {
  nlmsgerr e;
  std::memcpy(&e, NLMSG_DATA(&h), sizeof e);
  std::string text = std::strerror(-e.error);
  if (!(h.nlmsg_flags & NLM_F_ACK_TLVS)) return text;
  size_t offset = NLMSG_HDRLEN + sizeof e;
  if (!(h.nlmsg_flags & NLM_F_CAPPED)) offset += Align(e.msg.nlmsg_len) - NLMSG_HDRLEN;
  if (offset >= whole.size()) return text;
  ForEachAttribute(whole.subspan(offset), [&](uint16_t type, std::span<const std::byte> v) {
    if (type == NLMSGERR_ATTR_MSG && !v.empty()) {
      text += fmt::format(" ({})",
                          std::string(AsChars(v).substr(
                              0, ::strnlen(reinterpret_cast<const char*>(v.data()), v.size()))));
    }
  });
  return text;
}

std::string LinkName(int index) {
  char name[IF_NAMESIZE] = {};
  return ::if_indextoname(index, name) ? std::string(name) : std::to_string(index);
}

}  // namespace

std::string Route::ToString() const {
  std::string s = type == RouteType::kUnreachable ? "unreachable " + destination.ToString()
                                                  : destination.ToString();
  if (source) s += " from " + source->ToString();
  if (link) s += " dev " + link->name;
  if (metric != 0) s += fmt::format(" metric {}", metric);
  if (table != RT_TABLE_MAIN) s += fmt::format(" table {}", table);
  return s;
}

Result<Netlink> Netlink::Open() {
  UniqueFd fd(::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE));
  if (!fd.valid()) return MakeError("opening rtnetlink socket: {}", std::strerror(errno));
  sockaddr_nl local{};
  local.nl_family = AF_NETLINK;
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&local), sizeof local) != 0) {
    return MakeError("binding rtnetlink socket: {}", std::strerror(errno));
  }
  int one = 1;
  ::setsockopt(fd.get(), SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof one);  // best effort
  ::setsockopt(fd.get(), SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof one);
  return Netlink(std::move(fd));
}

// ---- Transport ----

Status Netlink::SendRaw(std::span<const std::byte> message) {
  sockaddr_nl kernel{};
  kernel.nl_family = AF_NETLINK;
  ssize_t n = ::sendto(fd_.get(), message.data(), message.size(), 0,
                       reinterpret_cast<sockaddr*>(&kernel), sizeof kernel);
  if (n != static_cast<ssize_t>(message.size())) return Error(std::strerror(errno));
  return Ok();
}

Result<std::vector<std::vector<std::byte>>> Netlink::Dump(std::span<const std::byte> message) {
  Status sent = SendRaw(message);
  if (!sent) return sent.error();
  uint32_t sequence = reinterpret_cast<const nlmsghdr*>(message.data())->nlmsg_seq;
  std::vector<std::vector<std::byte>> replies;
  std::vector<std::byte> buffer(kReceiveBufferSize);
  while (true) {
    ssize_t n = ::recv(fd_.get(), buffer.data(), buffer.size(), 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Error(std::strerror(errno));
    size_t left = static_cast<size_t>(n);
    for (auto* h = reinterpret_cast<nlmsghdr*>(buffer.data()); NLMSG_OK(h, left);
         h = NLMSG_NEXT(h, left)) {
      if (h->nlmsg_seq != sequence) continue;
      std::span<const std::byte> whole(reinterpret_cast<const std::byte*>(h), h->nlmsg_len);
      if (h->nlmsg_type == NLMSG_DONE) return replies;
      if (h->nlmsg_type == NLMSG_ERROR) {
        if (reinterpret_cast<nlmsgerr*>(NLMSG_DATA(h))->error == 0) return replies;  // an ack
        return Error(ErrorText(*h, whole));
      }
      replies.emplace_back(whole.begin(), whole.end());
      if (!(h->nlmsg_flags & NLM_F_MULTI)) return replies;
    }
  }
}

Status Netlink::Request(std::span<const std::byte> message) {
  Result<std::vector<std::vector<std::byte>>> replies = Dump(message);
  if (!replies) return replies.error();
  return Ok();
}

// ---- Links ----

Result<Link> Netlink::FindLink(std::string_view name) {
  MessageBuilder b(RTM_GETLINK, 0);
  ifinfomsg info{};
  info.ifi_family = AF_UNSPEC;
  b.AddStruct(info);
  b.AddAttribute(IFLA_IFNAME, std::string(name).c_str(), name.size() + 1);
  auto replies = Dump(b.Finish(next_sequence_++));
  if (!replies) return replies.error().Wrap(fmt::format("looking up interface {}", name));
  for (const auto& reply : *replies) {
    const auto* h = reinterpret_cast<const nlmsghdr*>(reply.data());
    if (h->nlmsg_type != RTM_NEWLINK) continue;
    ifinfomsg got;
    std::memcpy(&got, NLMSG_DATA(h), sizeof got);
    Link link{
        .index = got.ifi_index, .name = std::string(name), .up = (got.ifi_flags & IFF_UP) != 0};
    size_t offset = NLMSG_LENGTH(sizeof got);
    ForEachAttribute(std::span(reply).subspan(offset), [&](uint16_t type, auto v) {
      if (type == IFLA_MTU) link.mtu = ReadU32(v);
    });
    return link;
  }
  return MakeError("looking up interface {}: no answer", name);
}

Status Netlink::ChangeLink(const Link& link, uint32_t flags, uint32_t change,
                           std::optional<uint32_t> mtu) {
  MessageBuilder b(RTM_NEWLINK, NLM_F_ACK);
  ifinfomsg info{};
  info.ifi_family = AF_UNSPEC;
  info.ifi_index = link.index;
  info.ifi_flags = flags;
  info.ifi_change = change;
  b.AddStruct(info);
  if (mtu) b.AddU32(IFLA_MTU, *mtu);
  return Request(b.Finish(next_sequence_++));
}

Status Netlink::SetMtu(const Link& link, uint32_t mtu) {
  Status s = ChangeLink(link, 0, 0, mtu);
  if (!s) return s.error().Wrap(fmt::format("setting MTU {} on {}", mtu, link.name));
  return Ok();
}

Status Netlink::SetLinkUp(const Link& link, bool up) {
  Status s = ChangeLink(link, up ? IFF_UP : 0, IFF_UP, std::nullopt);
  if (!s) return s.error().Wrap(fmt::format("setting {} {}", link.name, up ? "up" : "down"));
  return Ok();
}

// ---- Addresses ----

Status Netlink::ChangeAddress(const Link& link, const Prefix& address, uint16_t type,
                              uint16_t flags) {
  MessageBuilder b(type, NLM_F_ACK | flags);
  ifaddrmsg msg{};
  msg.ifa_family = FamilyCode(address.family());
  msg.ifa_prefixlen = static_cast<uint8_t>(address.length());
  msg.ifa_scope = RT_SCOPE_UNIVERSE;
  msg.ifa_index = static_cast<uint32_t>(link.index);
  uint32_t ifa_flags = address.family() == IpFamily::kV6 ? IFA_F_NODAD : 0;
  msg.ifa_flags = static_cast<uint8_t>(ifa_flags);
  b.AddStruct(msg);
  b.AddAddress(IFA_LOCAL, address.address());
  b.AddAddress(IFA_ADDRESS, address.address());
  if (type == RTM_NEWADDR) b.AddU32(IFA_FLAGS, ifa_flags);
  return Request(b.Finish(next_sequence_++));
}

Status Netlink::AddAddress(const Link& link, const Prefix& address) {
  Status s = ChangeAddress(link, address, RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL);
  if (!s)
    return s.error().Wrap(fmt::format("adding address {} to {}", address.ToString(), link.name));
  return Ok();
}

Status Netlink::DeleteAddress(const Link& link, const Prefix& address) {
  Status s = ChangeAddress(link, address, RTM_DELADDR, 0);
  if (!s) {
    return s.error().Wrap(
        fmt::format("deleting address {} from {}", address.ToString(), link.name));
  }
  return Ok();
}

Result<std::vector<std::pair<Prefix, uint32_t>>> Netlink::DumpAddresses(const Link& link) {
  MessageBuilder b(RTM_GETADDR, NLM_F_DUMP);
  ifaddrmsg msg{};
  msg.ifa_family = AF_UNSPEC;
  b.AddStruct(msg);
  auto replies = Dump(b.Finish(next_sequence_++));
  if (!replies) return replies.error().Wrap(fmt::format("listing addresses of {}", link.name));
  std::vector<std::pair<Prefix, uint32_t>> out;
  for (const auto& reply : *replies) {
    ifaddrmsg got;
    std::memcpy(&got, NLMSG_DATA(reinterpret_cast<const nlmsghdr*>(reply.data())), sizeof got);
    if (static_cast<int>(got.ifa_index) != link.index) continue;
    std::optional<IpAddress> address;
    uint32_t flags = got.ifa_flags;
    ForEachAttribute(std::span(reply).subspan(NLMSG_LENGTH(sizeof got)),
                     [&](uint16_t type, auto v) {
                       if (type == IFA_ADDRESS && v.size() == 4)
                         address = IpAddress::FromV4Bytes(v);
                       if (type == IFA_ADDRESS && v.size() == 16)
                         address = IpAddress::FromV6Bytes(v);
                       if (type == IFA_FLAGS) flags = ReadU32(v);
                     });
    if (address) out.emplace_back(Prefix(*address, got.ifa_prefixlen), flags);
  }
  return out;
}

Result<std::vector<Prefix>> Netlink::ListAddresses(const Link& link) {
  auto dumped = DumpAddresses(link);
  if (!dumped) return dumped.error();
  std::vector<Prefix> out;
  for (const auto& [prefix, flags] : *dumped) out.push_back(prefix);
  return out;
}

Status Netlink::WaitForAddress(const Link& link, const Prefix& address, Duration timeout) {
  SystemClock clock;
  Timestamp deadline = clock.Now() + timeout;
  while (true) {
    auto dumped = DumpAddresses(link);
    if (!dumped) return dumped.error();
    for (const auto& [prefix, flags] : *dumped) {
      if (prefix == address && !(flags & IFA_F_TENTATIVE)) return Ok();
    }
    if (clock.Now() >= deadline) {
      return MakeError("address {} on {} not ready after {} ms", address.ToString(), link.name,
                       std::chrono::duration_cast<std::chrono::milliseconds>(timeout).count());
    }
    std::this_thread::sleep_for(5ms);
  }
}

// ---- Routes ----

Status Netlink::ChangeRoute(const Route& route, uint16_t type, uint16_t flags) {
  if (route.type == RouteType::kUnicast && !route.link)
    return Error("a unicast route needs a link");
  MessageBuilder b(type, NLM_F_ACK | flags);
  rtmsg msg{};
  msg.rtm_family = FamilyCode(route.destination.family());
  msg.rtm_dst_len = static_cast<uint8_t>(route.destination.length());
  msg.rtm_src_len = route.source ? static_cast<uint8_t>(route.source->length()) : 0;
  msg.rtm_table = route.table < 256 ? static_cast<uint8_t>(route.table) : RT_TABLE_UNSPEC;
  msg.rtm_protocol = type == RTM_DELROUTE ? RTPROT_UNSPEC : route.protocol;
  bool link_scope =
      route.type == RouteType::kUnicast && route.destination.family() == IpFamily::kV4;
  msg.rtm_scope = type == RTM_DELROUTE ? RT_SCOPE_NOWHERE
                  : link_scope         ? RT_SCOPE_LINK
                                       : RT_SCOPE_UNIVERSE;
  msg.rtm_type = route.type == RouteType::kUnreachable ? RTN_UNREACHABLE : RTN_UNICAST;
  b.AddStruct(msg);
  b.AddAddress(RTA_DST, route.destination.Network().address());
  if (route.source) b.AddAddress(RTA_SRC, route.source->Network().address());
  if (route.link) b.AddU32(RTA_OIF, static_cast<uint32_t>(route.link->index));
  if (route.metric != 0) b.AddU32(RTA_PRIORITY, route.metric);
  b.AddU32(RTA_TABLE, route.table);
  return Request(b.Finish(next_sequence_++));
}

Status Netlink::AddRoute(const Route& route) {
  Status s = ChangeRoute(route, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL);
  if (!s) return s.error().Wrap("adding route " + route.ToString());
  return Ok();
}

Status Netlink::ReplaceRoute(const Route& route) {
  Status s = ChangeRoute(route, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_REPLACE);
  if (!s) return s.error().Wrap("replacing route " + route.ToString());
  return Ok();
}

Status Netlink::DeleteRoute(const Route& route) {
  Status s = ChangeRoute(route, RTM_DELROUTE, 0);
  if (!s) return s.error().Wrap("deleting route " + route.ToString());
  return Ok();
}

Result<std::vector<Route>> Netlink::ListRoutes(IpFamily family, uint32_t table) {
  MessageBuilder b(RTM_GETROUTE, NLM_F_DUMP);
  rtmsg msg{};
  msg.rtm_family = FamilyCode(family);
  b.AddStruct(msg);
  auto replies = Dump(b.Finish(next_sequence_++));
  if (!replies) return replies.error().Wrap("listing routes");
  std::vector<Route> out;
  for (const auto& reply : *replies) {
    rtmsg got;
    std::memcpy(&got, NLMSG_DATA(reinterpret_cast<const nlmsghdr*>(reply.data())), sizeof got);
    if (got.rtm_type != RTN_UNICAST && got.rtm_type != RTN_UNREACHABLE) continue;
    Route r;
    r.type = got.rtm_type == RTN_UNREACHABLE ? RouteType::kUnreachable : RouteType::kUnicast;
    r.protocol = got.rtm_protocol;
    r.table = got.rtm_table;
    IpAddress zero = family == IpFamily::kV4 ? IpAddress::V4({}) : IpAddress::V6({});
    r.destination = Prefix(zero, got.rtm_dst_len);
    ForEachAttribute(
        std::span(reply).subspan(NLMSG_LENGTH(sizeof got)), [&](uint16_t type, auto v) {
          auto addr = [&] {
            return v.size() == 4 ? IpAddress::FromV4Bytes(v) : IpAddress::FromV6Bytes(v);
          };
          if (type == RTA_DST) r.destination = Prefix(addr(), got.rtm_dst_len);
          if (type == RTA_SRC) r.source = Prefix(addr(), got.rtm_src_len);
          if (type == RTA_OIF) {
            int index = static_cast<int>(ReadU32(v));
            r.link = Link{.index = index, .name = LinkName(index)};
          }
          if (type == RTA_PRIORITY) r.metric = ReadU32(v);
          if (type == RTA_TABLE) r.table = ReadU32(v);
        });
    if (r.table == table) out.push_back(std::move(r));
  }
  return out;
}

}  // namespace plexus::io
