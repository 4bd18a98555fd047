#include "store/event_outbox_repository.h"

#include <soci/soci.h>

#include "store/one_time_statement.h"

namespace portico::store {

void EventOutboxRepository::append(const std::string& type, const std::string& payload,
                                   std::int64_t published_at) {
  db_.with_session([&](soci::session& sql) {
    sql << "INSERT INTO event_outbox (type, payload, published_at) VALUES (:t, :p, :at)",
        soci::use(type), soci::use(payload), soci::use(published_at);
  });
}

std::size_t EventOutboxRepository::drain(
    std::size_t max, const std::function<bool(const std::vector<OutboxRow>&)>& deliver) {
  std::size_t delivered = 0;
  struct Undelivered {};  // rolls the transaction back, keeping the rows
  try {
    db_.in_transaction([&](soci::session& sql) {
      // Two nodes draining at once each take rows the other does not hold.
      std::string lock = db_.backend() == Backend::postgresql ? " FOR UPDATE SKIP LOCKED" : "";
      auto limit = static_cast<long long>(max);
      std::vector<OutboxRow> rows;
      OutboxRow row;
      soci::statement st =
          one_time_statement(sql,
                             "SELECT id, type, payload, published_at FROM event_outbox "
                             "ORDER BY id LIMIT :n" +
                                 lock,
                             soci::into(row.id), soci::into(row.type), soci::into(row.payload),
                             soci::into(row.published_at), soci::use(limit));
      st.execute();
      while (st.fetch()) rows.push_back(row);
      if (rows.empty()) return;
      if (!deliver(rows)) throw Undelivered{};
      for (auto& r : rows) sql << "DELETE FROM event_outbox WHERE id = :id", soci::use(r.id);
      delivered = rows.size();
    });
  } catch (const Undelivered&) {
    return 0;
  }
  return delivered;
}

std::size_t EventOutboxRepository::size() {
  long long n = 0;
  db_.with_session(
      [&](soci::session& sql) { sql << "SELECT COUNT(*) FROM event_outbox", soci::into(n); });
  return static_cast<std::size_t>(n);
}

}  // namespace portico::store
