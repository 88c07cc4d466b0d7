// Every behaviour of the reference NAT is a knob. Each field names the requirement it relates to;
// docs/reference-model.md maps requirements to compliant and violating settings, and the knob
// table (knobs()) is the single source for parsing "key=value" overrides and for documentation.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "natcert/reference/packet.hpp"

namespace natcert::ref {

using Duration = std::chrono::nanoseconds;
using TimePoint = std::chrono::nanoseconds;  // virtual time since an arbitrary epoch

// RFC 4787 §4.1 / RFC 5382 REQ-1 / RFC 5508 REQ-1a.
enum class MappingBehavior : std::uint8_t { endpoint_independent, address_dependent, address_and_port_dependent };
// RFC 4787 §5 REQ-8 / RFC 5382 REQ-3.
enum class FilteringBehavior : std::uint8_t { endpoint_independent, address_dependent, address_and_port_dependent };
// RFC 4787 §4.1 REQ-2.
enum class Pooling : std::uint8_t { paired, arbitrary };
enum class PortAllocation : std::uint8_t { sequential, random };
// RFC 4787 REQ-9a / RFC 5382 REQ-8a: the source a hairpinned packet carries.
enum class HairpinSource : std::uint8_t { external_mapping, internal_endpoint };
// RFC 5382 REQ-4: what happens to an unsolicited inbound SYN.
enum class UnsolicitedSyn : std::uint8_t {
  hold_then_port_unreachable,  // compliant: hold 6 s, drop if a matching outbound SYN follows, else ICMP 3/3
  silent_drop,                 // compliant under REQ-4a (stealth policy)
  immediate_rst,               // violates REQ-4: answers at once with a RST
  immediate_port_unreachable,  // violates REQ-4: answers within the 6 s window
};
// RFC 4787 REQ-14: inbound fragments.
enum class FragmentHandling : std::uint8_t {
  in_order_only,  // violates REQ-14: a fragment arriving before the header fragment is dropped
  any_order,      // buffers fragments until the header fragment arrives, then forwards them all
  reassemble,     // reassembles the datagram and forwards it whole
  none,           // violates REQ-14 ("Receive Fragments None"): every fragment is dropped
};
// RFC 3027 §2.4: the IP identification of outbound fragments forwarded one by one.
enum class FragmentIds : std::uint8_t {
  unique,    // each fragmented datagram gets a fresh ID, so two inside hosts never collide behind X'
  preserve,  // keeps the inside host's ID: two hosts using the same ID towards one peer collide
};
// RFC 4787 REQ-13a: how a DF=0 datagram larger than the outside MTU leaves.
enum class OversizeHandling : std::uint8_t {
  fragment_in_order,  // compliant (MUST fragment, SHOULD in order)
  fragment_reversed,  // violates the SHOULD of REQ-13a
  drop,               // violates the MUST of REQ-13a
};
// RFC 5508 REQ-3d: how the checksum of the transport header quoted in an ICMP error is updated.
enum class EmbeddedChecksumUpdate : std::uint8_t {
  incremental,                // compliant: RFC 1624 over the changed words only
  recompute_over_icmp_body,   // violates REQ-3d: sums the quoted bytes, extensions and padding included
  leave_stale,                // violates REQ-4a/5a: the quoted checksum is not adjusted
};

struct PortTimer {
  std::uint16_t destination_port = 0;
  Duration timeout{};
};

struct ProtocolBehavior {
  MappingBehavior mapping = MappingBehavior::endpoint_independent;
  FilteringBehavior filtering = FilteringBehavior::address_dependent;
};

struct PortAssignment {
  std::uint16_t min_port = 1024;  // outside REQ-3a's low class; 0 means "use 1..1023 for low ports too"
  std::uint16_t max_port = 65535;
  bool preserve_port = true;          // RFC 4787 §4.2.1 (port preservation when free)
  bool preserve_parity = true;        // RFC 4787 REQ-4
  bool contiguity = false;            // RFC 4787 §4.2.4 (port contiguity, not required)
  bool preserve_range_class = true;   // RFC 4787 REQ-3a
  PortAllocation allocation = PortAllocation::random;  // RFC 7857 §9 (RFC 6056 obfuscation)
  bool overloading = false;           // violates RFC 4787 REQ-3 / RFC 5382 REQ-7
  bool change_mapping_on_collision = false;  // violates RFC 4787 REQ-11 (behaviour changes under collision)
};

struct UdpTimers {
  Duration mapping = std::chrono::seconds(300);       // RFC 4787 REQ-5 (≥120 s), REQ-5c (≥300 s)
  std::vector<PortTimer> per_destination_port;        // RFC 4787 REQ-5a (shorter for well-known ports)
  bool refresh_outbound = true;                       // RFC 4787 REQ-6 (MUST)
  bool refresh_inbound = true;                        // RFC 4787 REQ-6a (MAY)
};

struct TcpBehavior {
  Duration established = std::chrono::seconds(7440);  // RFC 5382 REQ-5 (≥ 2 h 4 min)
  Duration transitory = std::chrono::seconds(240);    // RFC 5382 REQ-5 (≥ 4 min)
  Duration rst_linger = std::chrono::seconds(240);    // RFC 7857 §2.2 (keep 4 min after a RST)
  Duration unsolicited_syn_hold = std::chrono::seconds(6);  // RFC 5382 REQ-4
  UnsolicitedSyn unsolicited_syn = UnsolicitedSyn::hold_then_port_unreachable;
  bool simultaneous_open = true;  // RFC 5382 REQ-2a; false drops an inbound SYN on an outbound-SYN session
  bool pass_inbound_initiated = true;  // RFC 5382 REQ-2: an allowed inbound SYN may open a connection
  bool drop_after_fin = false;    // violates RFC 5382 REQ-2 (half-close): drops data after the first FIN
  bool track_fin = true;       // RFC 7857 §2 (Fig. 1); false: FINs leave the session ESTABLISHED
  bool translate_rst = true;   // RFC 7857 §2.2 (MUST); false drops RSTs that match a session
  bool release_held_syn = false;  // violates RFC 5382 REQ-4: delivers the held SYN after the outbound one
  // Violates RFC 5382 REQ-4a: under silent_drop, a filtered SYN to a port that has a mapping gets an
  // immediate RST (a stealth policy that still reveals the NAT); SYNs to unmapped ports stay unanswered.
  bool silent_drop_rsts_mapped_ports = false;
};

struct IcmpBehavior {
  Duration query_timeout = std::chrono::seconds(60);  // RFC 5508 REQ-2 (≥60 s)
  bool pass_queries = true;                   // RFC 5508 REQ-1
  bool translate_inbound_errors = true;       // RFC 4787 REQ-12b, RFC 5382 REQ-9, RFC 5508 REQ-4
  bool translate_outbound_errors = true;      // RFC 5508 REQ-5
  bool errors_destroy_mappings = false;       // violates RFC 4787 REQ-12 / RFC 5382 REQ-10
  bool filter_errors_by_source = false;       // violates RFC 4787 REQ-12a
  bool drop_bad_icmp_checksum = true;         // RFC 5508 REQ-3
  bool drop_bad_embedded_ip_checksum = true;  // RFC 5508 REQ-3a
  bool skip_embedded_ip_options = true;       // RFC 5508 REQ-3b; false assumes a 20-byte quoted header
  bool verify_embedded_transport_checksum = false;  // violates RFC 5508 REQ-3c
  EmbeddedChecksumUpdate embedded_checksum = EmbeddedChecksumUpdate::incremental;  // REQ-3d, 4a, 5a
  bool restore_embedded_headers = true;       // RFC 5508 REQ-4a / REQ-5a
  bool keep_error_type_code = true;           // RFC 5508 REQ-4b / REQ-5b
  bool rewrite_outer_destination = true;      // RFC 5508 REQ-4c / REQ-7a
  bool rewrite_outer_source = true;           // RFC 5508 REQ-5c (false leaks the inside address)
  bool errors_refresh_query_session = false;  // violates RFC 5508 REQ-6
  bool hairpin_errors = true;                 // RFC 5508 REQ-7
  bool unreachable_on_session_failure = true; // RFC 5508 REQ-8 (ICMP 3/13)
  bool generate_time_exceeded = true;         // RFC 5508 REQ-10a
  bool generate_fragmentation_needed = true;  // RFC 4787 REQ-13 / RFC 5508 REQ-10a
  bool forward_source_quench = false;         // violates RFC 5508 REQ-10c
  bool answer_information_request = false;    // violates RFC 5508 REQ-10c
  bool copy_dscp = true;                      // RFC 5508 REQ-10d
  bool errors_about_errors = false;           // violates RFC 5508 REQ-10e (RFC 1812 §4.3.2.7)
  std::uint32_t generated_per_second = 100;   // RFC 5508 REQ-10f; 0 = unlimited (violates)
  bool outbound_errors_refresh = false;       // violates RFC 7857 §7.1
  bool forward_unmapped_errors = false;       // violates RFC 5508 REQ-5: outbound errors quoting no mapping leave
  // Violates RFC 5508 REQ-1: two inside hosts using the same query identifier may get the same external
  // identifier; the newer session then captures the replies meant for the older one.
  bool identifier_overloading = false;
  // Violates RFC 5508 REQ-4 (SHOULD drop): an inbound error quoting an external port no mapping holds is
  // matched on the quoted address alone and forwarded to the inside host of a mapping on that address.
  bool match_errors_by_address_only = false;
};

struct HairpinBehavior {
  bool enabled = true;                                        // RFC 4787 REQ-9, RFC 5382 REQ-8
  HairpinSource source = HairpinSource::external_mapping;     // RFC 4787 REQ-9a, RFC 5382 REQ-8a
};

struct FragmentBehavior {
  FragmentHandling inbound = FragmentHandling::any_order;     // RFC 4787 REQ-14
  FragmentHandling outbound = FragmentHandling::any_order;
  FragmentIds outbound_ids = FragmentIds::unique;              // RFC 3027 §2.4
  std::uint16_t outside_mtu = 1500;                           // RFC 4787 REQ-13
  OversizeHandling oversize = OversizeHandling::fragment_in_order;  // RFC 4787 REQ-13a
  std::uint32_t max_pending_datagrams = 64;                   // RFC 4787 REQ-14a (bounded buffering)
  // RFC 4787 REQ-14a: when the table is full, evict the oldest incomplete datagram so in-order traffic
  // keeps flowing; false lets a flood of incomplete sets starve in-order fragmented datagrams (violates).
  bool evict_oldest_when_full = true;
  std::uint32_t max_fragments_per_datagram = 64;
  Duration reassembly_timeout = std::chrono::seconds(5);
};

// Violating variants of the FTP ALG (RFC 3027 §4.1), one per way real ALGs get it wrong.
enum class FtpAlgMutant : std::uint8_t {
  none,
  wrong_sequence_delta,    // TCP sequence/ack corrections applied with the wrong sign
  stale_checksum,          // the TCP checksum is not updated after the payload changed
  first_segment_only,      // only the first PORT/EPRT/227/229 of a control connection is rewritten
  no_expectation,          // rewrites the address but opens nothing for the data connection
  rewrite_while_disabled,  // the ALG runs even with alg.ftp=false (violates RFC 5382 REQ-6 then)
  mangle_passive_replies,  // rewrites an outside server's 227/229 reply as if it were the NAT's endpoint
};

// Violating variants of the SIP ALG (RFC 3027 §4.5): each gets one part of the rewrite wrong.
enum class SipAlgMutant : std::uint8_t {
  none,
  wrong_sdp_address,     // SDP c= names the neighbour of the external address
  stale_content_length,  // Content-Length keeps the body length from before the rewrite
  no_media_expectation,  // the media port is advertised unchanged and nothing is opened for it
};

struct AlgBehavior {
  // RFC 4787 REQ-10 / RFC 5382 REQ-6: a NAT that rewrites inside addresses found in payloads.
  // Violating when on (the real ALGs below rewrite only what their protocol defines).
  bool generic_payload_rewrite = false;
  bool ftp = true;    // RFC 3027 §4.1, RFC 5382 REQ-6 (an FTP ALG is allowed and on by default)
  FtpAlgMutant ftp_mutant = FtpAlgMutant::none;
  bool sip = false;   // RFC 3027 §4.5, RFC 4787 REQ-10 (UDP ALGs SHOULD be off)
  bool tftp = false;  // RFC 3027 (TFTP replies come from a new port)
  SipAlgMutant sip_mutant = SipAlgMutant::none;
  Duration expectation_timeout = std::chrono::seconds(60);  // how long an announced connection may take
};

struct NatConfig {
  std::string name = "custom";
  std::vector<Ipv4Address> external_addresses;  // the pool; must not be empty
  Ipv4Address inside_address = 0;   // the NAT's own inside address (source of ICMP it sends inside)
  std::uint32_t inside_prefix = 0;  // inside network (for RFC 4787 REQ-7); 0 length = unknown
  std::uint8_t inside_prefix_length = 0;
  bool drop_outbound_to_inside_prefix = false;  // violates RFC 4787 REQ-7
  ProtocolBehavior udp;
  ProtocolBehavior tcp;
  ProtocolBehavior icmp;
  bool protocol_independent_mapping = false;    // violates RFC 7857 §5 default
  bool protocol_independent_filtering = false;  // violates RFC 7857 §6 default
  Pooling pooling = Pooling::paired;
  bool paired_pool_spill = false;  // "soft-APP" (RFC 7857 §4 MAY knob; on, it violates the SHOULD)
  bool filtered_inbound_refreshes = false;  // violates RFC 7857 §7: rejected inbound packets refresh
  PortAssignment ports;
  UdpTimers udp_timers;
  TcpBehavior tcp_behavior;
  IcmpBehavior icmp_behavior;
  HairpinBehavior hairpin;
  FragmentBehavior fragments;
  AlgBehavior alg;
  bool decrement_ttl = true;
  std::uint32_t max_sessions = 4u * 1024u * 1024u;  // beyond this, RFC 5508 REQ-8 applies
  std::uint32_t max_mappings_per_host = 0;          // 0 = unlimited (RFC 6888 REQ-4)
  std::uint64_t seed = 1;  // random port allocation is deterministic for a given seed
};

// A knob: a named, documented, settable field. The table drives parsing, validation messages and docs.
struct Knob {
  std::string_view key;          // e.g. "udp.mapping"
  std::string_view values;       // accepted values, e.g. "endpoint-independent|address-dependent|…"
  std::string_view requirement;  // e.g. "RFC4787-REQ-1"
  std::string_view description;
};
const std::vector<Knob>& knobs();

// Sets one knob from text. Returns an empty string on success, else a one-line error.
std::string apply_override(NatConfig& config, std::string_view key, std::string_view value);
// Reads a knob's current value as text (the inverse of apply_override).
std::string knob_value(const NatConfig& config, std::string_view key);
// Returns every problem with a configuration (empty pool, inverted port range, zero timers, …).
std::vector<std::string> validate(const NatConfig& config);

struct Preset {
  std::string_view name;
  std::string_view description;
  std::vector<std::pair<std::string_view, std::string_view>> overrides;  // applied on defaults()
};
const std::vector<Preset>& presets();
// The compliant base every preset starts from (this is rfc-strict).
NatConfig defaults();
// Builds a configuration from "PRESET[,key=value…]". Returns an error message in `error` on failure.
bool make_config(std::string_view spec, NatConfig& config, std::string& error);

}  // namespace natcert::ref
