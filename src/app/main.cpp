// portico: serve | config defaults | db migrate | keys rotate | version
#include <CLI/CLI.hpp>

#include <csignal>
#include <cstring>
#include <iostream>

#include "app/database_outbox.h"
#include "app/node.h"
#include "common/config.h"
#include "common/log.h"
#include "common/private_files.h"
#include "events/event_bus.h"
#include "events/redis_event_log.h"
#include "keymanager/keymanager.h"
#include "store/database.h"

#ifndef PORTICO_VERSION
#define PORTICO_VERSION "0.0.0"
#endif

namespace {

portico::Config load(const std::string& path) {
  auto config = portico::load_config(path, portico::process_environment());
  portico::configure_logging(config.log.level, config.log.format);
  return config;
}

// SIGTERM and SIGINT are taken by sigwait in the main thread: block them before any
// other thread starts so that every thread inherits the mask.
void block_stop_signals() {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
}

}  // namespace

int main(int argc, char** argv) {
  // Before anything is created: the database, its journals and the key material are the
  // node's alone (docs/security.md).
  portico::keep_new_files_private();
  CLI::App app{"Portico: API gateway, key manager and API management control plane"};
  app.require_subcommand(1);
  std::string config_path;
  std::string profile = "all-in-one";
  std::string environment;

  auto* serve = app.add_subcommand("serve", "Start a node");
  serve
      ->add_option("--profile", profile,
                   "all-in-one, control-plane, key-manager, gateway or traffic-manager")
      ->capture_default_str();
  serve->add_option("--environment", environment,
                    "Gateway: the environment whose APIs it serves (overrides "
                    "gateway.environment)");
  serve->add_option("--config", config_path, "TOML configuration file");

  auto* config_cmd = app.add_subcommand("config", "Configuration");
  config_cmd->require_subcommand(1);
  auto* defaults = config_cmd->add_subcommand("defaults", "Print the default configuration");
  auto* reference =
      config_cmd->add_subcommand("reference", "Print the configuration reference (Markdown)");

  auto* db_cmd = app.add_subcommand("db", "Database");
  db_cmd->require_subcommand(1);
  auto* migrate = db_cmd->add_subcommand("migrate", "Apply pending schema migrations");
  migrate->add_option("--config", config_path, "TOML configuration file");

  auto* keys_cmd = app.add_subcommand("keys", "Token-signing keys");
  keys_cmd->require_subcommand(1);
  auto* rotate = keys_cmd->add_subcommand("rotate", "Replace the active signing key now");
  rotate->add_option("--config", config_path, "TOML configuration file");

  auto* version = app.add_subcommand("version", "Print the version");

  CLI11_PARSE(app, argc, argv);

  try {
    if (version->parsed()) {
      std::cout << "portico " << PORTICO_VERSION << "\n";
      return 0;
    }
    if (defaults->parsed()) {
      std::cout << portico::default_config_toml();
      return 0;
    }
    if (reference->parsed()) {
      std::cout << portico::config_reference_markdown();
      return 0;
    }
    if (migrate->parsed()) {
      auto config = load(config_path);
      portico::prepare_data_dir(config.data_dir);
      auto db = portico::store::Database::open(config.database_url(), 1);
      std::cout << "schema version " << db->migrate() << "\n";
      return 0;
    }
    if (rotate->parsed()) {
      auto config = load(config_path);
      portico::prepare_data_dir(config.data_dir);
      auto db = portico::store::Database::open(config.database_url(), 1);
      db->migrate();
      // Through the cluster's outbox when there is an event log: the running nodes deliver
      // the event even after this process has ended, and each reloads its key ring.
      std::unique_ptr<portico::events::EventBus> bus;
      if (config.redis.url.empty()) {
        bus = std::make_unique<portico::events::InProcessBus>();
      } else {
        portico::events::RedisLogOptions o;
        o.url = config.redis.url;
        o.key_prefix = config.redis.key_prefix;
        o.retention = static_cast<std::uint64_t>(config.redis.event_retention);
        bus = std::make_unique<portico::events::RedisEventLog>(
            o, std::make_unique<portico::DatabaseOutbox>(*db));
      }
      portico::keymanager::KeyManager km(config, *db, *bus);
      km.keys().load();
      std::cout << "active signing key " << km.rotate_signing_key() << "\n";
      return 0;
    }
    block_stop_signals();
    auto config = load(config_path);
    if (!environment.empty()) config.gateway.environment = environment;
    portico::Node node(std::move(config), profile);
    node.start();
    node.run_until_signalled();
    return 0;
  } catch (const portico::ConfigError& e) {
    std::cerr << "portico: configuration error: " << e.what() << "\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "portico: " << e.what() << "\n";
    return 1;
  }
}
