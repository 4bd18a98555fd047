#pragma once
// The administrator's default password (admin/admin) at start: a loud warning on every
// start, and a refusal to serve it beyond the loopback interface unless the operator said so
// (security.allow_default_admin).
#include "common/config.h"
#include "keymanager/keymanager.h"

namespace portico {

// True when the configured administrator's stored password is still the default one.
bool admin_has_default_password(const Config& config, keymanager::KeyManager& key_manager);

// Warns, or throws ConfigError when `has_default_password` and server.host is not a loopback
// address and security.allow_default_admin is off.
void enforce_default_admin_policy(const Config& config, bool has_default_password);

// 127.0.0.0/8, ::1 and "localhost": addresses only this machine reaches.
bool is_loopback_host(const std::string& host);

}  // namespace portico
