#include "common/config.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

namespace portico {
namespace {

std::string write_temp(const std::string& text) {
  auto path = std::filesystem::temp_directory_path() /
              ("portico-config-" + std::to_string(::getpid()) + "-" +
               std::to_string(reinterpret_cast<std::uintptr_t>(&text)) + ".toml");
  std::ofstream(path) << text;
  return path.string();
}

std::string error_of(const std::string& toml, std::map<std::string, std::string> env = {}) {
  try {
    load_config(toml.empty() ? "" : write_temp(toml), env);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

TEST(Config, DefaultsApplyWithoutAFile) {
  auto c = load_config("", {});
  EXPECT_EQ(c.server.https_port, 9443);
  EXPECT_EQ(c.oauth.access_token_lifetime_seconds, 3600);
  EXPECT_EQ(c.oauth.refresh_token_lifetime_seconds, 86400);
  EXPECT_EQ(c.database_url(), "data/portico.db");
  EXPECT_EQ(c.issuer(), "https://localhost:9443/oauth2/token");
}

TEST(Config, FileValuesReplaceDefaults) {
  auto c = load_config(write_temp("data_dir = \"/tmp/x\"\n[server]\nhttps_port = 8443\n"
                                  "[oauth]\nsigning_algorithm = \"ES256\"\n"),
                       {});
  EXPECT_EQ(c.data_dir, "/tmp/x");
  EXPECT_EQ(c.server.https_port, 8443);
  EXPECT_EQ(c.oauth.signing_algorithm, "ES256");
  EXPECT_EQ(c.database_url(), "/tmp/x/portico.db");
}

TEST(Config, EnvironmentOverridesTheFile) {
  auto c = load_config(write_temp("[server]\nhttps_port = 8443\n"),
                       {{"PORTICO_SERVER_HTTPS_PORT", "7443"},
                        {"PORTICO_DATA_DIR", "/d"},
                        {"PORTICO_UNRELATED", "x"}});
  EXPECT_EQ(c.server.https_port, 7443);
  EXPECT_EQ(c.data_dir, "/d");
}

TEST(Config, UnknownKeyNamesTheKey) {
  EXPECT_NE(error_of("[server]\nhttps_prot = 1\n").find("unknown key server.https_prot"),
            std::string::npos);
  EXPECT_NE(error_of("[nosuch]\nx = 1\n").find("unknown key nosuch"), std::string::npos);
}

TEST(Config, WrongTypeNamesKeyValueAndExpectation) {
  auto e = error_of("[server]\nhttps_port = \"high\"\n");
  EXPECT_NE(e.find("server.https_port"), std::string::npos) << e;
  EXPECT_NE(e.find("high"), std::string::npos) << e;
  EXPECT_NE(e.find("an integer from 0 to 65535"), std::string::npos) << e;
}

TEST(Config, OutOfRangeAndBadChoiceAreRefused) {
  EXPECT_NE(error_of("[server]\nhttps_port = 70000\n").find("70000"), std::string::npos);
  auto e = error_of("[oauth]\nsigning_algorithm = \"HS256\"\n");
  EXPECT_NE(e.find("one of \"RS256\" \"ES256\""), std::string::npos) << e;
}

TEST(Config, BadEnvironmentValueIsRefused) {
  auto e = error_of("", {{"PORTICO_SERVER_THREADS", "many"}});
  EXPECT_NE(e.find("PORTICO_SERVER_THREADS"), std::string::npos) << e;
  EXPECT_NE(e.find("server.threads"), std::string::npos) << e;
}

TEST(Config, BooleansAreReadFromFileAndEnvironment) {
  EXPECT_TRUE(load_config("", {}).security.self_signup);
  EXPECT_FALSE(
      load_config(write_temp("[security]\nself_signup = false\n"), {}).security.self_signup);
  EXPECT_FALSE(load_config("", {{"PORTICO_SECURITY_SELF_SIGNUP", "false"}}).security.self_signup);
  EXPECT_NE(error_of("[security]\nself_signup = 1\n").find("true or false"), std::string::npos);
}

TEST(Config, SyntaxErrorGivesLine) {
  auto e = error_of("[server\n");
  EXPECT_NE(e.find(":1:"), std::string::npos) << e;
}

TEST(Config, DefaultsDocumentParsesBackToTheDefaults) {
  auto text = default_config_toml();
  auto c = load_config(write_temp(text), {});
  EXPECT_EQ(c.server.https_port, Config{}.server.https_port);
  EXPECT_EQ(c.oauth.signing_algorithm, "RS256");
  // Every key carries a comment line.
  EXPECT_NE(text.find("# HTTPS port"), std::string::npos);
}

}  // namespace
}  // namespace portico
