"""The `portico` command line and process lifecycle as an operator meets them."""

import re
import signal
import subprocess
import tomllib

from portico_node import Node, binary_path, child_environment


def portico(*args, timeout=60):
    return subprocess.run([str(binary_path()), *args], capture_output=True, text=True,
                          timeout=timeout, env=child_environment())


def test_version_prints_a_version():
    result = portico("version")
    assert result.returncode == 0
    assert re.fullmatch(r"portico \d+\.\d+\.\d+\S*\n", result.stdout)


def test_config_defaults_is_valid_toml():
    result = portico("config", "defaults")
    assert result.returncode == 0
    config = tomllib.loads(result.stdout)
    assert config["server"]["https_port"] == 9443
    assert config["oauth"]["access_token_lifetime_seconds"] == 3600


def test_config_defaults_documents_every_key_with_a_comment():
    lines = portico("config", "defaults").stdout.splitlines()
    keys = [i for i, line in enumerate(lines) if re.match(r"^[a-z_]+ = ", line)]
    assert len(keys) > 10
    for i in keys:
        assert lines[i - 1].startswith("# "), f"no comment above {lines[i]!r}"


def test_config_defaults_output_is_accepted_as_a_configuration(tmp_path):
    node = Node(tmp_path)
    defaults = portico("config", "defaults").stdout
    configured, count = re.subn(r"(?m)^data_dir = .*$", f'data_dir = "{node.data_dir}"', defaults)
    assert count == 1, defaults
    node.config_path.write_text(configured)
    result = node.cli("db", "migrate")
    assert result.returncode == 0, result.stderr
    assert (node.data_dir / "portico.db").exists()


def test_unknown_config_key_exits_2_naming_the_key(tmp_path):
    node = Node(tmp_path, sections={"oauth": {"no_such_key": 1}})
    result = node.cli("serve")
    assert result.returncode == 2
    assert "oauth.no_such_key" in result.stderr


def test_invalid_config_value_exits_2_naming_key_and_expectation(tmp_path):
    node = Node(tmp_path, sections={"oauth": {"signing_algorithm": "HS256"}})
    result = node.cli("serve")
    assert result.returncode == 2
    assert "oauth.signing_algorithm" in result.stderr
    assert "RS256" in result.stderr


def test_db_migrate_exits_0_and_prints_the_schema_version(launcher):
    node = launcher.new(start=False)
    first = node.cli("db", "migrate")
    assert first.returncode == 0, first.stderr
    assert re.search(r"schema version \d+", first.stdout)
    again = node.cli("db", "migrate")
    assert again.returncode == 0, again.stderr
    assert again.stdout == first.stdout


def test_sigterm_stops_the_node_with_exit_code_0(launcher):
    node = launcher.new()
    assert node.stop(signal.SIGTERM) == 0


def test_sigint_stops_the_node_with_exit_code_0(launcher):
    node = launcher.new()
    assert node.stop(signal.SIGINT) == 0


def test_sigterm_lets_an_open_keep_alive_connection_go(launcher):
    # An idle keep-alive connection must not hold the process up: with drain and idle
    # timeouts far beyond the stop deadline, only closing idle connections at once passes.
    node = launcher.new(sections={"server": {"drain_timeout_seconds": 120,
                                             "idle_timeout_seconds": 120}})
    session = node.session()
    assert session.get(node.https_url + "/oauth2/jwks", timeout=10).status_code == 200
    assert node.stop() == 0
    session.close()


def test_port_already_in_use_fails_start_naming_the_port(sqlite_node, tmp_path):
    node = Node(tmp_path)
    node.configure({"server": {"http_port": sqlite_node.http_port}})
    result = node.cli("serve")
    assert result.returncode != 0
    assert str(sqlite_node.http_port) in result.stderr


def test_unknown_subcommand_exits_nonzero():
    assert portico("no-such-command").returncode != 0


def test_unavailable_profile_exits_2_naming_it(tmp_path):
    result = Node(tmp_path).cli("serve", "--profile", "gateway")
    assert result.returncode == 2
    assert "gateway" in result.stderr
