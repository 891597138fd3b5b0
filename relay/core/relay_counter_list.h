#pragma once
// Every counter and gauge of relay/core, declared once. An entry gives its
// RelayCounters or RelayGauges field (relay_counters.h) and, unless
// UNEXPORTED, its Prometheus series: name, help and label, which
// RelayCoreMetrics (relay/io/relay_metrics.h) registers and copies into.
// A new counter is one entry here and nothing else. Metric names are in
// base units and counters end in _total; the README, deploy/grafana,
// deploy/prometheus and tests/integration/observability use these names,
// labels and help: change them together.
//
// Entries of OVERLINE_RELAY_COUNTERS, in field order:
//   COUNTER(field, metric name, help)     std::uint64_t; an unlabelled counter
//   LABELLED(field, family, label value)  std::uint64_t; one series of a family
//                                         of OVERLINE_RELAY_COUNTER_FAMILIES
//   ARRAY(field, Enum, count, family)     std::array<std::uint64_t, count>
//                                         indexed by Enum; one series of the
//                                         family per value, labelled with its
//                                         toString() name, all created at 0
//   UNEXPORTED(field)                     std::uint64_t the core and tests
//                                         read; no metric
// OVERLINE_RELAY_COUNTER_FAMILIES: FAMILY(family, metric name, label name, help).
// OVERLINE_RELAY_GAUGES: GAUGE(type, field, metric name, help).
// The lists name relay_counters.h's enums: expand them only where that
// header is included. Comments inside them are /* */: a // comment would
// swallow the continuation backslash.
//
// *_received count every well-formed packet of that type, whatever its fate;
// packets_sent, bytes_sent and *_sent count only packets the sink accepted
// (relay/io batches them; one the kernel then refuses at the flush is also
// a send_failed drop, and is missing from the per-line sent counters).

#define OVERLINE_RELAY_COUNTERS(COUNTER, LABELLED, ARRAY, UNEXPORTED)                                                  \
  /* Every datagram, malformed ones included. */                                                                       \
  COUNTER(packets_received, "overline_relay_packets_received_total",                                                   \
          "Datagrams received on all lines and handed to the core.")                                                   \
  COUNTER(bytes_received, "overline_relay_bytes_received_total",                                                       \
          "Bytes of datagrams received on all lines and handed to the core.")                                          \
  COUNTER(packets_sent, "overline_relay_packets_sent_total", "Datagrams the core sent.")                               \
  COUNTER(bytes_sent, "overline_relay_bytes_sent_total", "Bytes of datagrams the core sent.")                          \
  COUNTER(data_received, "overline_relay_data_packets_received_total", "DATA packets received.")                       \
  /* One per downstream a DATA packet was sent to; a redundant second copy to                                          \
     the same neighbour is counted in redundant_copies_sent instead. */                                                \
  COUNTER(data_forwarded, "overline_relay_data_packets_forwarded_total",                                               \
          "DATA copies sent downstream (one per downstream).")                                                         \
  /* The part of data_forwarded that came from a neighbour and went to a                                               \
     neighbour (transit); a draining relay waits for it to stop growing. */                                            \
  UNEXPORTED(transit_data_forwarded)                                                                                   \
  /* Second copies of kFlagRedundant DATA, on a second link. */                                                        \
  COUNTER(redundant_copies_sent, "overline_relay_redundant_copies_sent_total",                                         \
          "Second copies of redundant DATA sent on a second link.")                                                    \
  COUNTER(subscribes_received, "overline_relay_subscribes_received_total",                                             \
          "SUBSCRIBE packets received (joins and refreshes).")                                                         \
  COUNTER(subscribes_sent, "overline_relay_subscribes_sent_total", "SUBSCRIBE packets sent upstream.")                 \
  COUNTER(unsubscribes_received, "overline_relay_unsubscribes_received_total", "UNSUBSCRIBE packets received.")        \
  COUNTER(unsubscribes_sent, "overline_relay_unsubscribes_sent_total", "UNSUBSCRIBE packets sent upstream.")           \
  /* Soft-state expiries, and subscriptions of expired clients. */                                                     \
  COUNTER(downstreams_expired, "overline_relay_downstreams_expired_total",                                             \
          "Downstream subscriptions removed because they were not refreshed.")                                         \
  COUNTER(clients_expired, "overline_relay_clients_expired_total", "SDK clients removed because they went silent.")    \
  /* Client join (client_gate.h): stateless CHALLENGEs and WELCOMEs sent,                                              \
     sessions replaced by a reconnect from the same endpoint, sessions ended                                           \
     because their token expired, fresh tokens accepted. */                                                            \
  COUNTER(challenges_sent, "overline_relay_challenges_sent_total",                                                     \
          "CHALLENGEs (stateless cookies) sent in answer to untagged HELLOs.")                                         \
  COUNTER(welcomes_sent, "overline_relay_welcomes_sent_total", "WELCOMEs sent: joins with a valid cookie and token.")  \
  COUNTER(client_sessions_replaced, "overline_relay_client_sessions_replaced_total",                                   \
          "Client sessions replaced by a new join from the same address and port.")                                    \
  COUNTER(client_tokens_expired, "overline_relay_client_tokens_expired_total",                                         \
          "Client sessions ended because their join token expired.")                                                   \
  COUNTER(client_tokens_renewed, "overline_relay_client_tokens_renewed_total",                                         \
          "Fresh join tokens accepted in keepalives (session extended).")                                              \
  /* Link probing (link_monitor.h). Probes and ACKs are also counted in                                                \
     packets_sent/bytes_sent. */                                                                                       \
  LABELLED(probes_sent, probe_packets, "probe")                                                                        \
  LABELLED(probe_acks_sent, probe_packets, "ack")                                                                      \
  /* Every well-formed PROBE_ACK, matched or not. */                                                                   \
  UNEXPORTED(probe_acks_received)                                                                                      \
  /* Bytes of PROBEs and PROBE_ACKs sent (header-only packets, 32 bytes each). */                                      \
  COUNTER(probe_bytes_sent, "overline_relay_probe_bytes_sent_total", "Bytes of link probes and probe answers sent.")   \
  /* Path choice and failover: active link changes toward a neighbour                                                  \
     (path_selector.h; not the first choice after start-up); route next hops                                           \
     moved away from a down neighbour, and returned to their primary after                                             \
     failover.failback_hold_ms (failover_table.h). */                                                                  \
  COUNTER(path_switches, "overline_relay_path_switches_total", "Changes of the link carrying a neighbour's traffic.")  \
  COUNTER(failovers, "overline_relay_failovers_total",                                                                 \
          "Route next hops moved away from a neighbour whose links are all down.")                                     \
  COUNTER(failbacks, "overline_relay_failbacks_total",                                                                 \
          "Route next hops returned to their primary after the failback hold.")                                        \
  /* Loss recovery (nack_tracker.h, retransmit_buffer.h): NACK datagrams                                               \
     (one per link they went on); sequences requested (once per request, not                                           \
     per link); every well-formed NACK from a neighbour, whatever its fate;                                            \
     DATA copies sent with kFlagRetransmit (one per link); DATA with                                                   \
     kFlagRetransmit from a neighbour, whatever its fate; missing sequences                                            \
     filled by a retransmission, and given up (budget passed); requested                                               \
     sequences not in the retransmit buffer, or kept but past their budget;                                            \
     kept packets pushed out before their budget passed. */                                                            \
  COUNTER(nack_packets_sent, "overline_relay_nack_packets_sent_total",                                                 \
          "NACK packets sent upstream (one per link used).")                                                           \
  COUNTER(nack_sequences_sent, "overline_relay_nack_sequences_sent_total",                                             \
          "DATA sequences requested again by NACKs sent.")                                                             \
  COUNTER(nack_packets_received, "overline_relay_nack_packets_received_total",                                         \
          "NACK packets received from neighbours.")                                                                    \
  COUNTER(retransmissions_sent, "overline_relay_retransmissions_sent_total",                                           \
          "DATA copies retransmitted in answer to NACKs (one per link used).")                                         \
  COUNTER(retransmissions_received, "overline_relay_retransmissions_received_total",                                   \
          "Retransmitted DATA received from neighbours.")                                                              \
  LABELLED(recovered_nack, recovered_packets, "nack")                                                                  \
  COUNTER(unrecovered, "overline_relay_unrecovered_packets_total",                                                     \
          "Missing DATA sequences given up once their latency budget ran out.")                                        \
  COUNTER(nack_misses, "overline_relay_nack_misses_total",                                                             \
          "Sequences requested by NACKs that the retransmit buffer did not hold.")                                     \
  COUNTER(retransmit_budget_expired, "overline_relay_retransmit_budget_expired_total",                                 \
          "Sequences requested by NACKs whose latency budget had passed (not retransmitted).")                         \
  COUNTER(retransmit_buffer_evictions, "overline_relay_retransmit_buffer_evictions_total",                             \
          "Packets pushed out of the retransmit buffer by its size limits before their budget passed.")                \
  /* Second copies, on another link, of DATA that filled a gap here (arrived                                           \
     late or retransmitted) forwarded over a lossy active link. */                                                     \
  COUNTER(filled_copies_sent, "overline_relay_filled_copies_sent_total",                                               \
          "Second copies, on another link, of DATA that filled a gap here, forwarded over a lossy link.")              \
  /* FEC (fec_encoder.h, fec_decoder.h): parity packets sent to downstream                                             \
     neighbours (bytes under SentKind::kFec) and received from neighbours                                              \
     (every well-formed one, whatever its fate); DATA rebuilt from parity                                              \
     that was new here; NACKs held back because a pending FEC group may                                                \
     still repair the sequence; decoded blocks that were not a valid DATA                                              \
     block, and parity or data contradicting its group. */                                                             \
  COUNTER(fec_packets_sent, "overline_relay_fec_packets_sent_total",                                                   \
          "FEC parity packets sent to downstream neighbours.")                                                         \
  COUNTER(fec_packets_received, "overline_relay_fec_packets_received_total",                                           \
          "FEC parity packets received from neighbours.")                                                              \
  LABELLED(recovered_fec, recovered_packets, "fec")                                                                    \
  COUNTER(nacks_held_for_fec, "overline_relay_nacks_held_for_fec_total",                                               \
          "Due NACK sequences deferred to their next round because a pending FEC group may repair them.")              \
  COUNTER(fec_decode_failures, "overline_relay_fec_decode_failures_total",                                             \
          "FEC-decoded blocks that were not a valid DATA block (parity not matching the data).")                       \
  COUNTER(fec_inconsistent, "overline_relay_fec_inconsistent_total",                                                   \
          "FEC parity or DATA contradicting the FEC group it belongs to.")                                             \
  /* Stream directory (stream_directory.h): ANNOUNCE packets this relay made                                           \
     for its own publications (one per neighbour it went to), well-formed                                              \
     ones received from neighbours (whatever their fate), ones flooded on                                              \
     (per neighbour), and ones that had already arrived over another path. */                                          \
  COUNTER(announces_sent, "overline_relay_announces_sent_total",                                                       \
          "ANNOUNCE packets for this relay's own publications, one per neighbour.")                                    \
  COUNTER(announces_received, "overline_relay_announces_received_total",                                               \
          "Well-formed ANNOUNCE packets from neighbours.")                                                             \
  COUNTER(announces_forwarded, "overline_relay_announces_forwarded_total",                                             \
          "ANNOUNCE packets flooded on to a neighbour.")                                                               \
  COUNTER(announces_seen, "overline_relay_announces_seen_total",                                                       \
          "ANNOUNCE packets that had already arrived over another path (not flooded).")                                \
  /* Streams whose upstream set changed because their origins did (a                                                   \
     publisher moved or a second edge started publishing). */                                                          \
  COUNTER(origin_moves, "overline_relay_origin_moves_total",                                                           \
          "Streams whose upstreams changed because their origins did.")                                                \
  /* Bandwidth overhead: datagram bytes sent to neighbour relays by kind,                                              \
     and the payload bytes of first-transmission DATA sent to neighbours                                               \
     (once per downstream neighbour, not per redundant copy). */                                                       \
  ARRAY(neighbour_bytes_sent, SentKind, kSentKindCount, sent_bytes)                                                    \
  COUNTER(data_payload_bytes_sent, "overline_relay_data_payload_bytes_total",                                          \
          "Payload bytes of first-transmission DATA sent to neighbour relays (once per neighbour).")                   \
  /* Every drop has exactly one reason; malformed packets count under their                                            \
     wire::ParseError. Both are series of one family. */                                                               \
  ARRAY(dropped, DropReason, kDropReasonCount, dropped_packets)                                                        \
  ARRAY(malformed, wire::ParseError, wire::kParseErrorCount, dropped_packets)

#define OVERLINE_RELAY_COUNTER_FAMILIES(FAMILY)                                                                        \
  FAMILY(probe_packets, "overline_relay_probe_packets_sent_total", "kind",                                             \
         "Link probes (kind=probe) and probe answers (kind=ack) sent.")                                                \
  FAMILY(recovered_packets, "overline_relay_recovered_packets_total", "method",                                        \
         "Missing DATA sequences filled, by recovery method.")                                                         \
  FAMILY(sent_bytes, "overline_relay_sent_bytes_total", "kind",                                                        \
         "Datagram bytes sent to neighbour relays, by kind of packet.")                                                \
  FAMILY(dropped_packets, "overline_relay_dropped_packets_total", "reason",                                            \
         "Packets not forwarded, by reason (drop reasons and wire parse errors).")

// Current sizes of the core's tables (never one series per stream).
#define OVERLINE_RELAY_GAUGES(GAUGE)                                                                                   \
  GAUGE(std::uint64_t, streams, "overline_relay_streams", "Streams with at least one downstream.")                     \
  GAUGE(std::uint64_t, downstreams, "overline_relay_downstreams", "(stream, downstream) pairs.")                       \
  GAUGE(std::uint64_t, clients, "overline_relay_clients", "Joined SDK clients.")                                       \
  GAUGE(std::uint64_t, upstream_subscriptions, "overline_relay_upstream_subscriptions",                                \
        "Streams this relay subscribes to upstream.")                                                                  \
  GAUGE(std::uint64_t, extra_upstream_subscriptions, "overline_relay_extra_upstream_subscriptions",                    \
        "(stream, extra upstream) pairs: branches toward a stream's other origins.")                                   \
  GAUGE(std::uint64_t, directory_streams, "overline_relay_directory_streams",                                          \
        "Streams with an announced origin in this relay's stream directory.")                                          \
  GAUGE(std::uint64_t, local_publications, "overline_relay_local_publications",                                        \
        "Streams a client publishes at this relay.")                                                                   \
  /* The highest key epoch this relay tags packets to a neighbour with, at                                             \
     the last wall-clock time it was given; 0 with no neighbour or no auth.                                            \
     Watches a key rotation take effect. */                                                                            \
  GAUGE(std::uint32_t, auth_sending_epoch, "overline_relay_auth_sending_epoch",                                        \
        "Highest key epoch packets to a neighbour are tagged with; 0: none.")
