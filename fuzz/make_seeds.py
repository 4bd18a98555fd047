#!/usr/bin/python3
"""Writes the named seed inputs of fuzz/corpus/gateway_request/ (the files whose names are
not hashes; libFuzzer's merge adds the hashed ones). Every seed is one connection's bytes:
valid requests of each shape the gateway routes, the request smuggling catalogue, odd paths
and credentials. Tokens are signed with the harness's fixed test key (kEs256Pem in
fuzz/gateway_request_fuzzer.cpp), so that they verify there.

Run: /usr/bin/python3 fuzz/make_seeds.py [--force]
Writes the named seeds that are missing; --force rewrites them all (ES256 signatures are
randomised, so the token seeds change bytes each time). Hashed files are left alone.
"""

import sys
from pathlib import Path

import jwt

CORPUS = Path(__file__).resolve().parent / "corpus" / "gateway_request"

ES256_PEM = b"""-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg1S8eGawcSmkRhVuu
3TT9drJL6Y0mCL8TKTFZNOFCc8mhRANCAATjA+yVGGrf1pTdSjFgLcYEAUw9GKCc
/TpDxzU+ulWpoe2P7w+oYWj8LeQAHL+JGj1OcahzHwbUHtP3OY+VygI6
-----END PRIVATE KEY-----
"""
EXP = 4102444800  # 2100-01-01; the harness validates at 1700000000

ACCESS = {"iss": "https://localhost:9443/oauth2/token", "sub": "admin", "aud": "client1",
          "client_id": "client1", "aut": "APPLICATION", "scope": "default read",
          "exp": EXP, "iat": 1700000000, "jti": "j-1", "keytype": "PRODUCTION"}
API_KEY = {"token_type": "apiKey", "sub": "dev", "application": {"uuid": "app-1", "name": "a"},
           "keytype": "PRODUCTION", "exp": EXP, "iat": 1700000000, "jti": "k-1",
           "permittedIP": "127.0.0.1, 10.0.0.0/8", "permittedReferer": "https://*.example/*"}


def es256(claims: dict, **header) -> str:
    return jwt.encode(claims, ES256_PEM, algorithm="ES256",
                      headers={"kid": "fuzz-es256", **header})


def b64(data: bytes) -> str:
    import base64
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


ACCESS_TOKEN = es256(ACCESS)
API_KEY_TOKEN = es256(API_KEY)
USER_TOKEN = es256({**ACCESS, "aut": "APPLICATION_USER", "sub": "alice",
                    "scope": ["read", "write"], "aud": ["client1", "x"], "nbf": 1699999000})
EXPIRED_TOKEN = es256({**ACCESS, "exp": 1600000000})
NO_JTI_TOKEN = es256({k: v for k, v in ACCESS.items() if k != "jti"})
AT_JWT_TOKEN = es256(ACCESS, typ="application/at+jwt")
RS256_TOKEN = (b64(b'{"alg":"RS256","typ":"JWT","kid":"fuzz-rs256"}') + "." +
               b64(b'{"exp":4102444800,"jti":"r"}') + "." + b64(b"\x01" * 256))
NONE_TOKEN = b64(b'{"alg":"none","typ":"JWT","kid":"fuzz-es256"}') + "." + b64(b"{}") + "."
CRIT_TOKEN = (b64(b'{"alg":"ES256","kid":"fuzz-es256","crit":["x"]}') + "." + b64(b"{}") +
              "." + b64(b"s"))


def req(line: str, *fields: str, body: bytes = b"", host: str | None = "gw") -> bytes:
    head = line + "\r\n"
    if host is not None:
        head += f"Host: {host}\r\n"
    for f in fields:
        head += f + "\r\n"
    return head.encode() + b"\r\n" + body


def bearer(token: str) -> str:
    return f"Authorization: Bearer {token}"


CHUNKED_BODY = b"5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nX-Trailer: 1\r\n\r\n"

SEEDS: dict[str, bytes] = {
    # Requests the gateway serves.
    "valid_get_context_version": req("GET /pets/1.0.0/pets HTTP/1.1", bearer(ACCESS_TOKEN)),
    "valid_get_default_version": req("GET /pets/pets/7 HTTP/1.1", bearer(ACCESS_TOKEN)),
    "valid_get_param_suffix": req("GET /pets/1.0.0/pets/7/photos/3.json HTTP/1.1"),
    "valid_get_query_template": req("GET /pets/1.0.0/pets/findByStatus?status=sold&x=1 HTTP/1.1"),
    "valid_post_content_length": req("POST /pets/1.0.0/pets HTTP/1.1", "Content-Length: 13",
                                     "Content-Type: application/json", body=b'{"name":"x"}\n'),
    "valid_post_chunked": req("POST /pets/1.0.0/pets HTTP/1.1", "Transfer-Encoding: chunked",
                              body=CHUNKED_BODY),
    "valid_head_falls_back_to_get": req("HEAD /pets/1.0.0/pets/1 HTTP/1.1"),
    "valid_options_allow": req("OPTIONS /deep/x HTTP/1.1") + req("OPTIONS /a/b/c/d/2.1/x/1/z HTTP/1.1"),
    "valid_options_asterisk": req("OPTIONS * HTTP/1.1"),
    "valid_http10_no_host": req("GET /wild/1/x HTTP/1.0", host=None),
    "valid_http10_keep_alive": req("GET /wild/1/ HTTP/1.0", "Connection: keep-alive", host=None)
    + req("GET /wild/1/y HTTP/1.0", host=None),
    "valid_absolute_form_same_host": req("GET http://gw:8280/pets/1.0.0/pets?a=b HTTP/1.1",
                                         host="gw:8280"),
    "valid_version_inside_context": req("POST /shop/v2/orders/items/9 HTTP/1.1",
                                        "Content-Length: 0"),
    "valid_deep_context_params": req("GET /a/b/c/d/2.1/x/1/z HTTP/1.1")
    + req("GET /a/b/c/d/2.1/k-v HTTP/1.1") + req("GET /a/b/c/d/2.1/v2.json HTTP/1.1"),
    "valid_deep_context_wildcard": req("PATCH /a/b/c/d/2.1/files/x/y HTTP/1.1",
                                       "Content-Length: 2", body=b"{}"),
    "valid_longest_context": req("GET /pets/shop/1.0.0/bone HTTP/1.1"),
    "valid_no_resource": req("PUT /pets/1.0.0/pets HTTP/1.1", "Content-Length: 0"),
    "valid_leading_crlf": b"\r\n" + req("GET /pets/1.0.0/pets HTTP/1.1"),
    "valid_expect_continue": req("POST /wild/1/up HTTP/1.1", "Expect: 100-continue",
                                 "Content-Length: 5", body=b"hello"),
    "valid_pipelined_three": req("GET /pets/1.0.0/pets/1 HTTP/1.1")
    + req("GET /pets/1.0.0/pets/2 HTTP/1.1") + req("GET /pets/1.0.0/pets/3 HTTP/1.1"),
    "valid_pipelined_post_then_get": req("POST /wild/1/a HTTP/1.1", "Content-Length: 3",
                                         body=b"abc") + req("GET /wild/1/b HTTP/1.1"),
    "valid_pipelined_chunked_then_get": req("POST /wild/1/a HTTP/1.1",
                                            "Transfer-Encoding: chunked", body=CHUNKED_BODY)
    + req("GET /wild/1/b HTTP/1.1"),
    # Credentials.
    "token_user_scopes_array": req("GET /pets/1.0.0/pets HTTP/1.1", bearer(USER_TOKEN)),
    "token_api_key_header": req("GET /pets/1.0.0/pets HTTP/1.1", f"apikey: {API_KEY_TOKEN}"),
    "token_api_key_query": req(f"GET /pets/1.0.0/pets?x=1&apikey={API_KEY_TOKEN} HTTP/1.1"),
    "token_api_key_as_bearer": req("GET /pets/1.0.0/pets HTTP/1.1", bearer(API_KEY_TOKEN)),
    "token_claim_variants": req("GET /pets/1.0.0/pets HTTP/1.1", bearer(EXPIRED_TOKEN))
    + req("GET /pets/1.0.0/pets HTTP/1.1", bearer(NO_JTI_TOKEN))
    + req("GET /pets/1.0.0/pets HTTP/1.1", bearer(AT_JWT_TOKEN)),
    "token_rs256_bad_signature": req("GET /pets/1.0.0/pets HTTP/1.1", bearer(RS256_TOKEN)),
    "token_alg_none": req("GET /pets/1.0.0/pets HTTP/1.1", bearer(NONE_TOKEN)),
    "token_crit_header": req("GET /pets/1.0.0/pets HTTP/1.1", bearer(CRIT_TOKEN)),
    "token_opaque": req("GET /pets/1.0.0/pets HTTP/1.1",
                        "Authorization: Bearer 6f1c3a0e-4b7d-4a8e-9f2b-0c5d7e9a1b3c"),
    "token_basic": req("GET /pets/1.0.0/pets HTTP/1.1", "Authorization: Basic YWRtaW46YWRtaW4="),
    "token_bearer_lowercase_tabs": req("GET /pets/1.0.0/pets HTTP/1.1",
                                       f"authorization:\tbearer \t{ACCESS_TOKEN}\t"),
    # Request smuggling: framing.
    "smuggle_cl_te": req("POST /wild/1/ HTTP/1.1", "Content-Length: 6",
                         "Transfer-Encoding: chunked", body=b"0\r\n\r\nG"),
    "smuggle_te_cl": req("POST /wild/1/ HTTP/1.1", "Transfer-Encoding: chunked",
                         "Content-Length: 3", body=b"8\r\nSMUGGLED\r\n0\r\n\r\n"),
    "smuggle_two_cl_differ": req("POST /wild/1/ HTTP/1.1", "Content-Length: 3",
                                 "Content-Length: 5", body=b"hello"),
    "smuggle_two_cl_equal": req("POST /wild/1/ HTTP/1.1", "Content-Length: 5",
                                "Content-Length: 5", body=b"hello"),
    "smuggle_cl_plus": req("POST /wild/1/ HTTP/1.1", "Content-Length: +5", body=b"hello"),
    "smuggle_cl_space_inside": req("POST /wild/1/ HTTP/1.1", "Content-Length: 1 0",
                                   body=b"0123456789"),
    "smuggle_cl_hex": req("POST /wild/1/ HTTP/1.1", "Content-Length: 0x5", body=b"hello"),
    "smuggle_cl_comma_list": req("POST /wild/1/ HTTP/1.1", "Content-Length: 5, 5",
                                 body=b"hello"),
    "smuggle_cl_overflow": req("POST /wild/1/ HTTP/1.1",
                               "Content-Length: 18446744073709551621", body=b"hello"),
    "smuggle_cl_over_limit": req("POST /wild/1/ HTTP/1.1", "Content-Length: 70000"),
    "smuggle_te_trailing_space": req("POST /wild/1/ HTTP/1.1", "Transfer-Encoding: chunked ",
                                     body=b"0\r\n\r\n"),
    "smuggle_te_xchunked": req("POST /wild/1/ HTTP/1.1", "Transfer-Encoding: xchunked",
                               body=b"0\r\n\r\n"),
    "smuggle_te_chunked_identity": req("POST /wild/1/ HTTP/1.1",
                                       "Transfer-Encoding: chunked, identity", body=b"0\r\n\r\n"),
    "smuggle_te_tab": req("POST /wild/1/ HTTP/1.1", "Transfer-Encoding:\tchunked",
                          body=b"0\r\n\r\n"),
    "smuggle_te_two_headers": req("POST /wild/1/ HTTP/1.1", "Transfer-Encoding: chunked",
                                  "Transfer-Encoding: identity", body=b"0\r\n\r\n"),
    "smuggle_te_http10": req("POST /wild/1/ HTTP/1.0", "Transfer-Encoding: chunked",
                             body=b"0\r\n\r\n"),
    "smuggle_chunk_size_negative": req("POST /wild/1/ HTTP/1.1", "Transfer-Encoding: chunked",
                                       body=b"-5\r\nhello\r\n0\r\n\r\n"),
    "smuggle_chunk_size_overflow": req("POST /wild/1/ HTTP/1.1", "Transfer-Encoding: chunked",
                                       body=b"10000000000000005\r\nhello\r\n0\r\n\r\n"),
    "smuggle_chunk_size_not_hex": req("POST /wild/1/ HTTP/1.1", "Transfer-Encoding: chunked",
                                      body=b"zz\r\nhello\r\n0\r\n\r\n"),
    "smuggle_chunk_missing_crlf": req("POST /wild/1/ HTTP/1.1", "Transfer-Encoding: chunked",
                                      body=b"5\r\nhelloXX0\r\n\r\n"),
    "smuggle_chunk_bare_lf": req("POST /wild/1/ HTTP/1.1", "Transfer-Encoding: chunked",
                                 body=b"5\nhello\n0\n\n"),
    # Request smuggling: line and field syntax.
    "syntax_bare_lf": b"GET /wild/1/ HTTP/1.1\nHost: gw\n\n",
    "syntax_bare_cr": b"GET /wild/1/ HTTP/1.1\rHost: gw\r\n\r\n",
    "syntax_nul_in_request_line": b"GET /wild/1/\x00 HTTP/1.1\r\nHost: gw\r\n\r\n",
    "syntax_nul_in_field_value": req("GET /wild/1/ HTTP/1.1", "X-A: a\x00b"),
    "syntax_ctl_in_field_value": req("GET /wild/1/ HTTP/1.1", "X-A: a\x01b"),
    "syntax_obs_fold_space": req("GET /wild/1/ HTTP/1.1", "X-A: a", " folded"),
    "syntax_obs_fold_tab": req("POST /wild/1/ HTTP/1.1", "Transfer-Encoding: identity",
                               "\tchunked", body=b"0\r\n\r\n"),
    "syntax_space_before_colon": req("POST /wild/1/ HTTP/1.1", "Content-Length : 5",
                                     body=b"hello"),
    "syntax_missing_host": req("GET /wild/1/ HTTP/1.1", host=None),
    "syntax_two_hosts": req("GET /wild/1/ HTTP/1.1", "Host: other"),
    "syntax_host_with_space": req("GET /wild/1/ HTTP/1.1", host="gw evil"),
    "syntax_host_userinfo": req("GET /wild/1/ HTTP/1.1", host="user@gw"),
    "syntax_absolute_form_other_host": req("GET http://other/wild/1/ HTTP/1.1"),
    "syntax_http2_request_line": req("GET /wild/1/ HTTP/2.0"),
    "syntax_http12": req("GET /wild/1/ HTTP/1.2"),
    "syntax_h2c_preface": b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
    "syntax_h2c_upgrade": req("GET /wild/1/ HTTP/1.1", "Connection: Upgrade, HTTP2-Settings",
                              "Upgrade: h2c", "HTTP2-Settings: AAMAAABkAAQAAP__"),
    "syntax_request_line_too_long": req("GET /wild/1/" + "a" * 1100 + " HTTP/1.1"),
    "syntax_fields_too_large": req("GET /wild/1/ HTTP/1.1", "X-Big: " + "b" * 4200),
    "syntax_too_many_fields": req("GET /wild/1/ HTTP/1.1", *[f"X-F{i}: v" for i in range(40)]),
    "syntax_expect_unknown": req("POST /wild/1/ HTTP/1.1", "Expect: 200-ok", "Content-Length: 0"),
    "syntax_method_not_token": req("G(T /wild/1/ HTTP/1.1"),
    "syntax_fragment_in_target": req("GET /wild/1/#frag HTTP/1.1"),
    "syntax_smuggled_after_valid": req("GET /wild/1/a HTTP/1.1")
    + b"GET /wild/1/b HTTP/1.1\r\nHost: gw\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nxx",
    # Found by the fuzzer: Boost.URL 1.81 asserts on this absolute-form (boostorg/url#665)
    # in builds with assertions; its release build refuses it, as it must.
    "regress_boost_url_665_rootless_path": req("GET hhttp:{ HTTP/1.1", host="gw:8280"),
    # Paths.
    "path_dot_segments": req("GET /pets/1.0.0/a/../pets/./7 HTTP/1.1"),
    "path_above_root": req("GET /../pets/1.0.0/pets HTTP/1.1"),
    "path_encoded_dot_dot": req("GET /pets/1.0.0/x/%2e%2E/pets HTTP/1.1"),
    "path_encoded_slash": req("GET /pets/1.0.0/pets%2F7 HTTP/1.1"),
    "path_backslash": req("GET /pets/1.0.0\\pets HTTP/1.1"),
    "path_encoded_nul": req("GET /pets/1.0.0/pets%007 HTTP/1.1"),
    "path_lowercase_escapes": req("GET /wild/1/caf%c3%a9/%7e%41 HTTP/1.1"),
    "path_bad_escapes": req("GET /wild/1/%zz HTTP/1.1") + req("GET /wild/1/%4 HTTP/1.1"),
    "path_double_encoded_slash": req("GET /pets/1.0.0/pets%252F7 HTTP/1.1"),
    "path_duplicate_slashes": req("GET //pets///1.0.0//pets/ HTTP/1.1"),
    "path_context_by_dot_dot": req("GET /pets/shop/../1.0.0/pets HTTP/1.1"),
}


def main() -> None:
    force = "--force" in sys.argv[1:]
    CORPUS.mkdir(parents=True, exist_ok=True)
    written = 0
    for name, data in SEEDS.items():
        path = CORPUS / name
        if force or not path.exists():
            path.write_bytes(data)
            written += 1
    print(f"wrote {written} of {len(SEEDS)} seeds to {CORPUS}")


if __name__ == "__main__":
    main()
