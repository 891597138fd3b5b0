#include "controller/store/controller_store.h"

#include <rocksdb/options.h>
#include <rocksdb/write_batch.h>

#include <algorithm>
#include <array>

#include "controller/store/store_records.pb.h"

namespace overline::controller {
namespace {

constexpr const char* kNodesFamily = "nodes";
constexpr const char* kSightingsFamily = "sightings";
constexpr const char* kLinksFamily = "links";
constexpr const char* kMetaFamily = "meta";
constexpr const char* kEventsFamily = "events";
constexpr const char* kRouteVersionKey = "route_version";
constexpr const char* kKeyEpochsKey = "key_epochs";

void appendBigEndian(std::string& out, std::uint64_t value, int bytes) {
  for (int i = bytes - 1; i >= 0; --i) out.push_back(static_cast<char>((value >> (8 * i)) & 0xff));
}

std::uint64_t readBigEndian(const rocksdb::Slice& in) {
  std::uint64_t value = 0;
  for (std::size_t i = 0; i < in.size(); ++i) value = (value << 8) | static_cast<std::uint8_t>(in[i]);
  return value;
}

std::string nodeKey(NodeId id) {
  std::string key;
  appendBigEndian(key, id, 4);
  return key;
}

std::string linkKey(const LinkKey& link) {
  std::string key;
  appendBigEndian(key, link.from, 4);
  appendBigEndian(key, link.from_line, 1);
  appendBigEndian(key, link.to, 4);
  appendBigEndian(key, link.to_line, 1);
  return key;
}

std::string eventKey(std::uint64_t sequence) {
  std::string key;
  appendBigEndian(key, sequence, 8);
  return key;
}

std::string hexOf(const rocksdb::Slice& key) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (std::size_t i = 0; i < key.size(); ++i) {
    const auto byte = static_cast<std::uint8_t>(key[i]);
    out.push_back(kDigits[byte >> 4]);
    out.push_back(kDigits[byte & 15]);
  }
  return out;
}

std::string corrupt(const char* family, const rocksdb::Slice& key) {
  return std::string("store: corrupt record in ") + family + " at key " + hexOf(key);
}

ProvisionedNode fromRecord(const store::NodeRecord& record) {
  ProvisionedNode node;
  node.id = record.node_id();
  node.region = record.region();
  for (const auto& line : record.lines()) node.lines.push_back({line.name(), line.address(), line.isp()});
  node.capacity_bps = record.capacity_bps();
  node.drained = record.drained();
  return node;
}

store::NodeRecord toRecord(const ProvisionedNode& node) {
  store::NodeRecord record;
  record.set_node_id(node.id);
  record.set_region(node.region);
  for (const auto& line : node.lines) {
    auto* out = record.add_lines();
    out->set_name(line.name);
    out->set_address(line.address);
    out->set_isp(line.isp);
  }
  record.set_capacity_bps(node.capacity_bps);
  record.set_drained(node.drained);
  return record;
}

std::optional<LinkState> linkStateOf(std::uint32_t value) {
  switch (value) {
    case static_cast<std::uint32_t>(LinkState::kUp): return LinkState::kUp;
    case static_cast<std::uint32_t>(LinkState::kDegraded): return LinkState::kDegraded;
    case static_cast<std::uint32_t>(LinkState::kDown): return LinkState::kDown;
    default: return std::nullopt;
  }
}

// Iterates one column family, handing each (key, value) to `visit`, which
// returns false for a corrupt record.
template <typename Visit>
std::optional<std::string> scan(rocksdb::DB& db, rocksdb::ColumnFamilyHandle* family, const char* name,
                                Visit visit) {
  std::unique_ptr<rocksdb::Iterator> it(db.NewIterator(rocksdb::ReadOptions(), family));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    if (!visit(it->key(), it->value())) return corrupt(name, it->key());
  }
  if (!it->status().ok()) return std::string("store: cannot read ") + name + ": " + it->status().ToString();
  return std::nullopt;
}

}  // namespace

LinkKey keyOf(const LinkMeasurement& link) { return {link.from, link.from_line, link.to, link.to_line}; }

void ControllerStore::Batch::putNode(const ProvisionedNode& node) {
  puts_.push_back({Family::kNodes, nodeKey(node.id), toRecord(node).SerializeAsString()});
}

void ControllerStore::Batch::deleteNode(NodeId id) {
  deletes_.push_back({Family::kNodes, nodeKey(id)});
  deletes_.push_back({Family::kSightings, nodeKey(id)});
}

void ControllerStore::Batch::putSighting(const NodeSighting& sighting) {
  store::SightingRecord record;
  record.set_node_id(sighting.id);
  record.set_last_seen_unix_ms(sighting.last_seen_unix_ms);
  record.set_software_version(sighting.software_version);
  for (const auto& address : sighting.announced_addresses) record.add_announced_addresses(address);
  puts_.push_back({Family::kSightings, nodeKey(sighting.id), record.SerializeAsString()});
}

void ControllerStore::Batch::putLink(const StoredLink& link) {
  const LinkMeasurement& m = link.measurement;
  store::LinkRecord record;
  record.set_from_node(m.from);
  record.set_from_line(m.from_line);
  record.set_to_node(m.to);
  record.set_to_line(m.to_line);
  record.set_rtt_us(m.rtt_us);
  record.set_jitter_us(m.jitter_us);
  record.set_loss(m.loss);
  record.set_state(static_cast<std::uint32_t>(m.state));
  record.set_updated_unix_ms(link.updated_unix_ms);
  puts_.push_back({Family::kLinks, linkKey(keyOf(m)), record.SerializeAsString()});
}

void ControllerStore::Batch::deleteLink(const LinkKey& key) { deletes_.push_back({Family::kLinks, linkKey(key)}); }

void ControllerStore::Batch::putRouteVersion(std::uint64_t version) {
  std::string value;
  appendBigEndian(value, version, 8);
  puts_.push_back({Family::kMeta, kRouteVersionKey, std::move(value)});
}

void ControllerStore::Batch::putKeyEpochs(const std::vector<KeyEpoch>& epochs) {
  store::KeyEpochsRecord record;
  for (const KeyEpoch& epoch : epochs) {
    store::KeyEpochRecord* out = record.add_epochs();
    out->set_epoch(epoch.epoch);
    out->set_secret(std::string(reinterpret_cast<const char*>(epoch.secret.data()), epoch.secret.size()));
    out->set_created_unix_s(epoch.created_unix_s);
    out->set_activate_at_unix_s(epoch.activate_at_unix_s);
  }
  puts_.push_back({Family::kMeta, kKeyEpochsKey, record.SerializeAsString()});
}

void ControllerStore::Batch::appendEvent(v1::Event event) { events_.push_back(std::move(event)); }

Result<std::unique_ptr<ControllerStore>, std::string> ControllerStore::open(const std::string& path,
                                                                            std::uint64_t max_events) {
  rocksdb::Options options;
  options.create_if_missing = true;
  options.create_missing_column_families = true;
  // The state is small (nodes, links, events): keep RocksDB's footprint so.
  options.OptimizeForSmallDb();
  std::vector<rocksdb::ColumnFamilyDescriptor> families;
  for (const char* name : {rocksdb::kDefaultColumnFamilyName.c_str(), kNodesFamily, kSightingsFamily, kLinksFamily,
                           kMetaFamily, kEventsFamily}) {
    families.emplace_back(name, rocksdb::ColumnFamilyOptions(options));
  }
  std::unique_ptr<ControllerStore> store(new ControllerStore());
  store->max_events_ = std::max<std::uint64_t>(max_events, 1);
  rocksdb::DB* db = nullptr;
  const rocksdb::Status status = rocksdb::DB::Open(options, path, families, &store->handles_, &db);
  if (!status.ok()) return Err("store: cannot open " + path + ": " + status.ToString());
  store->db_.reset(db);
  store->nodes_ = store->handles_[1];
  store->sightings_ = store->handles_[2];
  store->links_ = store->handles_[3];
  store->meta_ = store->handles_[4];
  store->events_ = store->handles_[5];

  std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions(), store->events_));
  it->SeekToLast();
  if (it->Valid()) store->last_event_sequence_ = readBigEndian(it->key());
  it->SeekToFirst();
  store->first_event_sequence_ = it->Valid() ? readBigEndian(it->key()) : store->last_event_sequence_ + 1;
  if (!it->status().ok()) return Err("store: cannot read events: " + it->status().ToString());
  return store;
}

ControllerStore::~ControllerStore() {
  if (!db_) return;
  for (auto* handle : handles_) db_->DestroyColumnFamilyHandle(handle);
  db_->Close();
}

rocksdb::ColumnFamilyHandle* ControllerStore::family(Batch::Family family) const {
  switch (family) {
    case Batch::Family::kNodes: return nodes_;
    case Batch::Family::kSightings: return sightings_;
    case Batch::Family::kLinks: return links_;
    case Batch::Family::kMeta: return meta_;
  }
  return nullptr;
}

Result<StoredState, std::string> ControllerStore::load() const {
  StoredState state;
  auto error = scan(*db_, nodes_, kNodesFamily, [&](const rocksdb::Slice&, const rocksdb::Slice& value) {
    store::NodeRecord record;
    if (!record.ParseFromArray(value.data(), static_cast<int>(value.size()))) return false;
    state.nodes.push_back(fromRecord(record));
    return true;
  });
  if (!error) {
    error = scan(*db_, sightings_, kSightingsFamily, [&](const rocksdb::Slice&, const rocksdb::Slice& value) {
      store::SightingRecord record;
      if (!record.ParseFromArray(value.data(), static_cast<int>(value.size()))) return false;
      NodeSighting sighting{record.node_id(), record.last_seen_unix_ms(), record.software_version(), {}};
      for (const auto& address : record.announced_addresses()) sighting.announced_addresses.push_back(address);
      state.sightings.push_back(std::move(sighting));
      return true;
    });
  }
  if (!error) {
    error = scan(*db_, links_, kLinksFamily, [&](const rocksdb::Slice&, const rocksdb::Slice& value) {
      store::LinkRecord record;
      if (!record.ParseFromArray(value.data(), static_cast<int>(value.size()))) return false;
      const auto link_state = linkStateOf(record.state());
      if (!link_state || record.from_line() > 255 || record.to_line() > 255) return false;
      StoredLink link;
      link.measurement = {record.from_node(), static_cast<LineIndex>(record.from_line()), record.to_node(),
                          static_cast<LineIndex>(record.to_line()), record.rtt_us(), record.jitter_us(),
                          record.loss(), *link_state};
      link.updated_unix_ms = record.updated_unix_ms();
      state.links.push_back(link);
      return true;
    });
  }
  if (error) return Err(std::move(*error));

  std::string value;
  const rocksdb::Status status = db_->Get(rocksdb::ReadOptions(), meta_, kRouteVersionKey, &value);
  if (status.ok()) {
    if (value.size() != 8) return Err(corrupt(kMetaFamily, kRouteVersionKey));
    state.route_version = readBigEndian(value);
  } else if (!status.IsNotFound()) {
    return Err("store: cannot read route version: " + status.ToString());
  }
  value.clear();
  const rocksdb::Status keys = db_->Get(rocksdb::ReadOptions(), meta_, kKeyEpochsKey, &value);
  if (keys.ok()) {
    store::KeyEpochsRecord record;
    if (!record.ParseFromString(value)) return Err(corrupt(kMetaFamily, kKeyEpochsKey));
    for (const store::KeyEpochRecord& epoch : record.epochs()) {
      KeyEpoch loaded;
      if (epoch.epoch() == 0 || epoch.secret().size() != loaded.secret.size()) {
        return Err(corrupt(kMetaFamily, kKeyEpochsKey));
      }
      loaded.epoch = epoch.epoch();
      std::copy(epoch.secret().begin(), epoch.secret().end(), reinterpret_cast<char*>(loaded.secret.data()));
      loaded.created_unix_s = epoch.created_unix_s();
      loaded.activate_at_unix_s = epoch.activate_at_unix_s();
      state.key_epochs.push_back(loaded);
    }
  } else if (!keys.IsNotFound()) {
    return Err("store: cannot read key epochs: " + keys.ToString());
  }
  state.last_event_sequence = lastEventSequence();
  return state;
}

Result<std::vector<v1::Event>, std::string> ControllerStore::commit(Batch batch, Durability durability) {
  std::lock_guard commit_lock(commit_mutex_);
  rocksdb::WriteBatch write;
  for (const auto& put : batch.puts_) write.Put(family(put.family), put.key, put.value);
  for (const auto& del : batch.deletes_) write.Delete(family(del.family), del.key);
  std::uint64_t sequence = lastEventSequence();
  for (auto& event : batch.events_) {
    event.set_sequence(++sequence);
    write.Put(events_, eventKey(sequence), event.SerializeAsString());
  }
  // Retention: the log keeps the newest max_events_ events.
  std::uint64_t first_kept = first_event_sequence_;
  if (sequence >= max_events_ && sequence - max_events_ + 1 > first_kept) {
    first_kept = sequence - max_events_ + 1;
    write.DeleteRange(events_, eventKey(first_event_sequence_), eventKey(first_kept));
  }
  rocksdb::WriteOptions options;
  options.sync = durability == Durability::kSynced;
  const rocksdb::Status status = db_->Write(options, &write);
  if (!status.ok()) return Err("store: write failed: " + status.ToString());
  first_event_sequence_ = first_kept;
  if (!batch.events_.empty()) {
    {
      std::lock_guard event_lock(event_mutex_);
      last_event_sequence_ = sequence;
    }
    event_added_.notify_all();
  }
  return std::move(batch.events_);
}

Result<std::vector<v1::Event>, std::string> ControllerStore::readEvents(std::uint64_t from_sequence,
                                                                        std::size_t max_count) const {
  std::vector<v1::Event> events;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), events_));
  for (it->Seek(eventKey(from_sequence)); it->Valid() && events.size() < max_count; it->Next()) {
    v1::Event event;
    if (!event.ParseFromArray(it->value().data(), static_cast<int>(it->value().size()))) {
      return Err(corrupt(kEventsFamily, it->key()));
    }
    events.push_back(std::move(event));
  }
  if (!it->status().ok()) return Err("store: cannot read events: " + it->status().ToString());
  return events;
}

std::uint64_t ControllerStore::lastEventSequence() const {
  std::lock_guard lock(event_mutex_);
  return last_event_sequence_;
}

void ControllerStore::waitForEvents(std::uint64_t sequence, std::chrono::milliseconds timeout) const {
  std::unique_lock lock(event_mutex_);
  event_added_.wait_for(lock, timeout, [&] { return last_event_sequence_ >= sequence; });
}

std::optional<std::string> ControllerStore::flush() {
  rocksdb::Status status = db_->FlushWAL(true);
  if (status.ok()) status = db_->Flush(rocksdb::FlushOptions(), handles_);
  if (!status.ok()) return "store: flush failed: " + status.ToString();
  return std::nullopt;
}

}  // namespace overline::controller
