#include "common/tls_material.h"

#include <gtest/gtest.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <set>
#include <stdexcept>

#include "common/crypto.h"

namespace portico {
namespace {

namespace fs = std::filesystem;

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

struct X509Free {
  void operator()(X509* p) const { X509_free(p); }
};
using X509Ptr = std::unique_ptr<X509, X509Free>;

X509Ptr load_cert(const std::string& path) {
  std::string pem = read_file(path);
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  X509Ptr cert(PEM_read_bio_X509(bio, nullptr, nullptr, nullptr));
  BIO_free(bio);
  if (!cert) throw std::runtime_error("no certificate in " + path);
  return cert;
}

class TlsMaterialTest : public ::testing::Test {
 protected:
  TlsMaterialTest()
      : data_dir_(fs::temp_directory_path() / ("portico-tls-" + crypto::random_token(9))) {}
  ~TlsMaterialTest() override {
    std::error_code ec;
    fs::remove_all(data_dir_, ec);
  }
  TlsFiles generate() { return ensure_tls_material(data_dir_.string(), "", ""); }

  fs::path data_dir_;
};

TEST_F(TlsMaterialTest, GeneratesCertificateAndKeyUnderTheDataDirectory) {
  TlsFiles files = generate();
  EXPECT_EQ(files.cert_file, (data_dir_ / "tls" / "server.crt").string());
  EXPECT_EQ(files.key_file, (data_dir_ / "tls" / "server.key").string());
  EXPECT_NE(read_file(files.cert_file).find("-----BEGIN CERTIFICATE-----"), std::string::npos);
  EXPECT_NE(read_file(files.key_file).find("-----BEGIN PRIVATE KEY-----"), std::string::npos);
}

TEST_F(TlsMaterialTest, SecondCallReusesTheSameFiles) {
  TlsFiles first = generate();
  std::string cert = read_file(first.cert_file);
  std::string key = read_file(first.key_file);
  TlsFiles second = generate();
  EXPECT_EQ(second.cert_file, first.cert_file);
  EXPECT_EQ(read_file(second.cert_file), cert);
  EXPECT_EQ(read_file(second.key_file), key);
}

TEST_F(TlsMaterialTest, KeyFileIsReadableByItsOwnerOnly) {
  TlsFiles files = generate();
  struct stat st {};
  ASSERT_EQ(::stat(files.key_file.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0600u);
}

TEST_F(TlsMaterialTest, CertificateNamesLocalhostAndLoopbackInSubjectAltName) {
  X509Ptr cert = load_cert(generate().cert_file);
  auto* names = static_cast<GENERAL_NAMES*>(
      X509_get_ext_d2i(cert.get(), NID_subject_alt_name, nullptr, nullptr));
  ASSERT_NE(names, nullptr);
  std::set<std::string> dns;
  std::set<std::string> ips;
  for (int i = 0; i < sk_GENERAL_NAME_num(names); ++i) {
    const GENERAL_NAME* name = sk_GENERAL_NAME_value(names, i);
    if (name->type == GEN_DNS) {
      const ASN1_IA5STRING* s = name->d.dNSName;
      dns.emplace(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)), ASN1_STRING_length(s));
    } else if (name->type == GEN_IPADD) {
      const ASN1_OCTET_STRING* s = name->d.iPAddress;
      ips.emplace(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)), ASN1_STRING_length(s));
    }
  }
  GENERAL_NAMES_free(names);
  EXPECT_EQ(dns, std::set<std::string>{"localhost"});
  EXPECT_EQ(ips, std::set<std::string>{std::string("\x7f\x00\x00\x01", 4)});
}

TEST_F(TlsMaterialTest, CertificateIsAnEcdsaP256V3CertificateValidFor825Days) {
  X509Ptr cert = load_cert(generate().cert_file);
  EXPECT_EQ(X509_get_version(cert.get()), X509_VERSION_3);
  EVP_PKEY* pub = X509_get0_pubkey(cert.get());
  ASSERT_NE(pub, nullptr);
  EXPECT_TRUE(EVP_PKEY_is_a(pub, "EC"));
  char curve[32] = {};
  ASSERT_EQ(EVP_PKEY_get_utf8_string_param(pub, "group", curve, sizeof curve, nullptr), 1);
  EXPECT_STREQ(curve, "prime256v1");
  int days = 0;
  int seconds = 0;
  ASSERT_EQ(ASN1_TIME_diff(&days, &seconds, X509_get0_notBefore(cert.get()),
                           X509_get0_notAfter(cert.get())),
            1);
  EXPECT_EQ(days, 825);
  EXPECT_EQ(seconds, 0);
}

TEST_F(TlsMaterialTest, KeyMatchesTheCertificate) {
  TlsFiles files = generate();
  X509Ptr cert = load_cert(files.cert_file);
  std::string pem = read_file(files.key_file);
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  EVP_PKEY* key = PEM_read_bio_PrivateKey(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  ASSERT_NE(key, nullptr);
  EXPECT_EQ(X509_check_private_key(cert.get(), key), 1);
  EVP_PKEY_free(key);
}

TEST_F(TlsMaterialTest, CertificateVerifiesForLocalhostWhenPinnedAsTrustAnchor) {
  X509Ptr cert = load_cert(generate().cert_file);
  for (bool by_ip : {false, true}) {
    X509_STORE* store = X509_STORE_new();
    X509_STORE_add_cert(store, cert.get());
    X509_STORE_CTX* ctx = X509_STORE_CTX_new();
    X509_STORE_CTX_init(ctx, store, cert.get(), nullptr);
    X509_VERIFY_PARAM* param = X509_STORE_CTX_get0_param(ctx);
    X509_VERIFY_PARAM_set_purpose(param, X509_PURPOSE_SSL_SERVER);
    if (by_ip) {
      X509_VERIFY_PARAM_set1_ip_asc(param, "127.0.0.1");
    } else {
      X509_VERIFY_PARAM_set1_host(param, "localhost", 0);
    }
    EXPECT_EQ(X509_verify_cert(ctx), 1)
        << X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx));
    X509_STORE_CTX_free(ctx);
    X509_STORE_free(store);
  }
}

TEST_F(TlsMaterialTest, RegeneratesWhenTheKeyIsMissing) {
  TlsFiles first = generate();
  std::string cert = read_file(first.cert_file);
  fs::remove(first.key_file);
  TlsFiles second = generate();
  EXPECT_TRUE(fs::exists(second.key_file));
  EXPECT_NE(read_file(second.cert_file), cert);
}

TEST_F(TlsMaterialTest, ConfiguredReadableFilesAreReturnedAsGiven) {
  TlsFiles generated = generate();
  TlsFiles files =
      ensure_tls_material("/nonexistent-data-dir", generated.cert_file, generated.key_file);
  EXPECT_EQ(files.cert_file, generated.cert_file);
  EXPECT_EQ(files.key_file, generated.key_file);
  EXPECT_FALSE(fs::exists("/nonexistent-data-dir"));
}

TEST_F(TlsMaterialTest, UnreadableConfiguredFileThrows) {
  TlsFiles generated = generate();
  std::string missing = (data_dir_ / "missing.pem").string();
  EXPECT_THROW(ensure_tls_material(data_dir_.string(), missing, generated.key_file),
               std::runtime_error);
  EXPECT_THROW(ensure_tls_material(data_dir_.string(), generated.cert_file, missing),
               std::runtime_error);
  EXPECT_THROW(ensure_tls_material(data_dir_.string(), data_dir_.string(), generated.key_file),
               std::runtime_error);  // a directory is not a certificate
}

TEST_F(TlsMaterialTest, OnlyOneConfiguredFileThrows) {
  TlsFiles generated = generate();
  EXPECT_THROW(ensure_tls_material(data_dir_.string(), generated.cert_file, ""),
               std::runtime_error);
  EXPECT_THROW(ensure_tls_material(data_dir_.string(), "", generated.key_file), std::runtime_error);
}

}  // namespace
}  // namespace portico
