#pragma once
// ControllerStore: the controller's durable state in RocksDB.
//
// Column families (keys are big-endian so they sort numerically):
//   nodes      u32 node id                      -> NodeRecord      provisioning (ops' intent)
//   sightings  u32 node id                      -> SightingRecord  last hello / message of a relay
//   links      u32 from, u8 line, u32 to, u8 line -> LinkRecord    last reported link state
//   meta       "route_version"                  -> u64             highest route-table version ever pushed
//              "key_epochs"                     -> KeyEpochsRecord data-plane key epochs (secrets: the
//                                                                  store directory is the controller's, mode 0700)
//   events     u64 sequence                     -> overline.v1.Event  append-only log, the newest
//                                                                  `max_events` kept (older ones are
//                                                                  deleted in the commit that passes the bound)
//
// Durability. Every write goes to RocksDB's write-ahead log before commit()
// returns, so a controller killed with SIGKILL loses nothing it committed.
// kSynced additionally fsyncs the log: use it for anything acknowledged to
// someone outside the process (an admin RPC's reply, a route version a relay
// will see), so that not even a power loss takes it back.
//
// Threads: commit() is serialised by an internal mutex (it assigns event
// sequences); reads and waitForEvents() may run on any thread at any time.

#include <rocksdb/db.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"
#include "common/types.h"
#include "controller/core/key_schedule.h"
#include "controller/core/topology.h"
#include "overline/v1/admin.pb.h"

namespace overline::controller {

struct NodeLine {
  std::string name;
  std::string address;  // "IPv4:port"; port 0: learned from the relay's hello
  std::string isp;

  friend bool operator==(const NodeLine&, const NodeLine&) = default;
};

struct ProvisionedNode {
  NodeId id = kNoNode;
  std::string region;
  std::vector<NodeLine> lines;  // index == LineIndex
  std::uint64_t capacity_bps = 0;
  bool drained = false;

  friend bool operator==(const ProvisionedNode&, const ProvisionedNode&) = default;
};

struct NodeSighting {
  NodeId id = kNoNode;
  std::int64_t last_seen_unix_ms = 0;
  std::string software_version;
  std::vector<std::string> announced_addresses;  // hello line addresses, in line order
};

struct LinkKey {
  NodeId from = kNoNode;
  LineIndex from_line = 0;
  NodeId to = kNoNode;
  LineIndex to_line = 0;

  friend auto operator<=>(const LinkKey&, const LinkKey&) = default;
};
LinkKey keyOf(const LinkMeasurement& link);

struct StoredLink {
  LinkMeasurement measurement;
  std::int64_t updated_unix_ms = 0;
};

// Everything load() finds.
struct StoredState {
  std::vector<ProvisionedNode> nodes;  // ascending id
  std::vector<NodeSighting> sightings;
  std::vector<StoredLink> links;
  std::uint64_t route_version = 0;  // 0: never pushed
  std::vector<KeyEpoch> key_epochs;
  std::uint64_t last_event_sequence = 0;
};

class ControllerStore {
 public:
  enum class Durability : std::uint8_t { kSynced, kBuffered };

  // Writes collected for one atomic commit(). Cheap to create.
  class Batch {
   public:
    void putNode(const ProvisionedNode& node);
    // Deletes the node's provisioning and sighting (not its links: name them).
    void deleteNode(NodeId id);
    void putSighting(const NodeSighting& sighting);
    void putLink(const StoredLink& link);
    void deleteLink(const LinkKey& key);
    void putRouteVersion(std::uint64_t version);
    // Replaces the stored key epochs.
    void putKeyEpochs(const std::vector<KeyEpoch>& epochs);
    // `event.sequence` is assigned by commit().
    void appendEvent(v1::Event event);
    bool empty() const { return puts_.empty() && deletes_.empty() && events_.empty(); }

   private:
    friend class ControllerStore;
    enum class Family : std::uint8_t { kNodes, kSightings, kLinks, kMeta };
    struct Put {
      Family family;
      std::string key;
      std::string value;
    };
    struct Delete {
      Family family;
      std::string key;
    };
    std::vector<Put> puts_;
    std::vector<Delete> deletes_;
    std::vector<v1::Event> events_;
  };

  static constexpr std::uint64_t kDefaultMaxEvents = 100'000;
  // Opens (creating if needed) the database directory `path`, keeping the
  // newest `max_events` (>= 1) events. The error names the path and
  // RocksDB's reason.
  static Result<std::unique_ptr<ControllerStore>, std::string> open(const std::string& path,
                                                                    std::uint64_t max_events = kDefaultMaxEvents);
  ~ControllerStore();
  ControllerStore(const ControllerStore&) = delete;
  ControllerStore& operator=(const ControllerStore&) = delete;

  // Reads the whole state (not the events). Fails on an unreadable or
  // corrupt record, naming it.
  Result<StoredState, std::string> load() const;

  // Applies `batch` atomically. Returns its events with their sequences
  // (consecutive, after every earlier one); nothing is applied on error.
  Result<std::vector<v1::Event>, std::string> commit(Batch batch, Durability durability);

  // Up to `max_count` events with sequence >= from_sequence, ascending
  // (from the oldest kept one when from_sequence was deleted).
  Result<std::vector<v1::Event>, std::string> readEvents(std::uint64_t from_sequence,
                                                         std::size_t max_count) const;
  std::uint64_t lastEventSequence() const;
  // Returns once an event with sequence >= `sequence` exists or `timeout`
  // has passed, whichever comes first.
  void waitForEvents(std::uint64_t sequence, std::chrono::milliseconds timeout) const;

  // Syncs the log and writes memtables to table files: a clean shutdown.
  // Returns the error, if any.
  std::optional<std::string> flush();

 private:
  ControllerStore() = default;
  rocksdb::ColumnFamilyHandle* family(Batch::Family family) const;

  std::unique_ptr<rocksdb::DB> db_;
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;  // owned; destroyed before db_
  rocksdb::ColumnFamilyHandle* nodes_ = nullptr;
  rocksdb::ColumnFamilyHandle* sightings_ = nullptr;
  rocksdb::ColumnFamilyHandle* links_ = nullptr;
  rocksdb::ColumnFamilyHandle* meta_ = nullptr;
  rocksdb::ColumnFamilyHandle* events_ = nullptr;

  std::mutex commit_mutex_;  // serialises commit(): sequence assignment and write order
  mutable std::mutex event_mutex_;
  mutable std::condition_variable event_added_;
  std::uint64_t last_event_sequence_ = 0;  // guarded by event_mutex_ (written under commit_mutex_ too)
  std::uint64_t max_events_ = kDefaultMaxEvents;
  std::uint64_t first_event_sequence_ = 1;  // oldest kept (or the next one); commit_mutex_
};

}  // namespace overline::controller
