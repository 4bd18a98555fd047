#include "store/clients_repository.h"

#include <soci/soci.h>

#include <stdexcept>

#include "store/one_time_statement.h"

namespace portico::store {
namespace {

constexpr std::string_view kWhitespace = " \t\r\n\f\v";

// Grant types and redirect URIs are stored as one space-separated column: neither may hold
// whitespace (RFC 3986 URIs cannot), so the join is lossless.
std::string join_words(const std::vector<std::string>& words, const char* what) {
  std::string out;
  for (const std::string& word : words) {
    if (word.empty() || word.find_first_of(kWhitespace) != std::string::npos) {
      throw std::invalid_argument(std::string("a client's ") + what +
                                  " must be non-empty and hold no whitespace: '" + word + "'");
    }
    if (!out.empty()) out += ' ';
    out += word;
  }
  return out;
}

std::vector<std::string> split_words(const std::string& text) {
  std::vector<std::string> words;
  std::size_t pos = 0;
  while ((pos = text.find_first_not_of(kWhitespace, pos)) != std::string::npos) {
    std::size_t end = text.find_first_of(kWhitespace, pos);
    words.push_back(text.substr(pos, end - pos));
    pos = end;
  }
  return words;
}

// The columns of one client as bound to statements; SOCI binds by reference, so these must
// outlive the statement.
struct ClientRow {
  explicit ClientRow(const ClientRecord& c)
      : grant_types(join_words(c.grant_types, "grant types")),
        redirect_uris(join_words(c.redirect_uris, "redirect URIs")),
        public_client(c.public_client ? 1 : 0),
        trusted(c.trusted ? 1 : 0) {}
  std::string grant_types;
  std::string redirect_uris;
  int public_client;
  int trusted;
};

}  // namespace

void ClientsRepository::create(const ClientRecord& c) {
  ClientRow row(c);
  db_.with_session([&](soci::session& sql) {
    sql << "INSERT INTO oauth_clients (client_id, secret_hash, name, owner, grant_types, "
           "redirect_uris, token_type, public_client, application_id, application_name, "
           "application_tier, key_type, access_token_lifetime, created_at, trusted) VALUES "
           "(:client_id, :secret_hash, :name, :owner, :grant_types, :redirect_uris, :token_type, "
           ":public_client, :application_id, :application_name, :application_tier, :key_type, "
           ":lifetime, :created_at, :trusted)",
        soci::use(c.client_id), soci::use(c.secret_hash), soci::use(c.name), soci::use(c.owner),
        soci::use(row.grant_types), soci::use(row.redirect_uris), soci::use(c.token_type),
        soci::use(row.public_client), soci::use(c.application_id), soci::use(c.application_name),
        soci::use(c.application_tier), soci::use(c.key_type), soci::use(c.access_token_lifetime),
        soci::use(c.created_at), soci::use(row.trusted);
  });
}

std::optional<ClientRecord> ClientsRepository::find(const std::string& client_id) {
  std::optional<ClientRecord> found;
  db_.with_session([&](soci::session& sql) {
    ClientRecord c;
    std::string grant_types, redirect_uris;
    int public_client = 0, trusted = 0;
    sql << "SELECT client_id, secret_hash, name, owner, grant_types, redirect_uris, token_type, "
           "public_client, application_id, application_name, application_tier, key_type, "
           "access_token_lifetime, created_at, trusted FROM oauth_clients WHERE client_id = :id",
        soci::into(c.client_id), soci::into(c.secret_hash), soci::into(c.name), soci::into(c.owner),
        soci::into(grant_types), soci::into(redirect_uris), soci::into(c.token_type),
        soci::into(public_client), soci::into(c.application_id), soci::into(c.application_name),
        soci::into(c.application_tier), soci::into(c.key_type), soci::into(c.access_token_lifetime),
        soci::into(c.created_at), soci::into(trusted), soci::use(client_id);
    if (!sql.got_data()) return;
    c.grant_types = split_words(grant_types);
    c.redirect_uris = split_words(redirect_uris);
    c.public_client = public_client != 0;
    c.trusted = trusted != 0;
    found = std::move(c);
  });
  return found;
}

bool ClientsRepository::update(const ClientRecord& c) {
  ClientRow row(c);
  bool updated = false;
  db_.with_session([&](soci::session& sql) {
    soci::statement st = one_time_statement(
        sql,
        "UPDATE oauth_clients SET secret_hash = :secret_hash, name = :name, "
        "owner = :owner, grant_types = :grant_types, redirect_uris = "
        ":redirect_uris, token_type = :token_type, public_client = "
        ":public_client, application_id = :application_id, application_name = "
        ":application_name, application_tier = :application_tier, key_type = "
        ":key_type, access_token_lifetime = :lifetime WHERE client_id = :id",
        soci::use(c.secret_hash), soci::use(c.name), soci::use(c.owner), soci::use(row.grant_types),
        soci::use(row.redirect_uris), soci::use(c.token_type), soci::use(row.public_client),
        soci::use(c.application_id), soci::use(c.application_name), soci::use(c.application_tier),
        soci::use(c.key_type), soci::use(c.access_token_lifetime), soci::use(c.client_id));
    st.execute(true);
    updated = st.get_affected_rows() > 0;
  });
  return updated;
}

bool ClientsRepository::set_trusted(const std::string& client_id, bool trusted) {
  int value = trusted ? 1 : 0;
  bool updated = false;
  db_.with_session([&](soci::session& sql) {
    soci::statement st =
        one_time_statement(sql, "UPDATE oauth_clients SET trusted = :t WHERE client_id = :id",
                           soci::use(value), soci::use(client_id));
    st.execute(true);
    updated = st.get_affected_rows() > 0;
  });
  return updated;
}

bool ClientsRepository::remove(const std::string& client_id) {
  bool removed = false;
  db_.with_session([&](soci::session& sql) {
    soci::statement st = one_time_statement(sql, "DELETE FROM oauth_clients WHERE client_id = :id",
                                            soci::use(client_id));
    st.execute(true);
    removed = st.get_affected_rows() > 0;
  });
  return removed;
}

}  // namespace portico::store
