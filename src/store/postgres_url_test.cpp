#include "store/postgres_url.h"

#include <gtest/gtest.h>

#include <stdexcept>

namespace portico::store {
namespace {

TEST(PostgresUrlTest, RecognisesBothSchemes) {
  EXPECT_TRUE(is_postgres_url("postgresql://h/db"));
  EXPECT_TRUE(is_postgres_url("postgres://h/db"));
  EXPECT_FALSE(is_postgres_url("/var/lib/portico/portico.db"));
  EXPECT_FALSE(is_postgres_url("postgresql.db"));
}

TEST(PostgresUrlTest, ConvertsEveryPart) {
  EXPECT_EQ(postgres_conninfo("postgresql://portico:secret@db.example:5433/apim"),
            "host='db.example' port='5433' dbname='apim' user='portico' password='secret' "
            "connect_timeout='10'");
  EXPECT_EQ(postgres_conninfo("postgres://u@h/d"),
            "host='h' dbname='d' user='u' connect_timeout='10'");
}

TEST(PostgresUrlTest, DecodesPercentEscapesAndQuotes) {
  EXPECT_EQ(postgres_conninfo("postgresql://a%20b:it's%40%5C%3A@h:1/d%2Fx"),
            "host='h' port='1' dbname='d/x' user='a b' password='it\\'s@\\\\:' "
            "connect_timeout='10'");
}

TEST(PostgresUrlTest, KeepsQueryParameters) {
  EXPECT_EQ(postgres_conninfo("postgresql://h/d?sslmode=require&options=-csearch_path%3Dt1&"
                              "connect_timeout=3"),
            "host='h' dbname='d' sslmode='require' options='-csearch_path=t1' "
            "connect_timeout='3'");
}

TEST(PostgresUrlTest, AcceptsIpv6Hosts) {
  EXPECT_EQ(postgres_conninfo("postgresql://[::1]:5432/d"),
            "host='::1' port='5432' dbname='d' connect_timeout='10'");
}

TEST(PostgresUrlTest, RejectsMalformedUrls) {
  EXPECT_THROW(postgres_conninfo("mysql://h/d"), std::invalid_argument);
  EXPECT_THROW(postgres_conninfo("postgresql://h:port/d"), std::invalid_argument);
  EXPECT_THROW(postgres_conninfo("postgresql://h/d?flag"), std::invalid_argument);
  EXPECT_THROW(postgres_conninfo("postgresql://h/d?bad key=1"), std::invalid_argument);
  EXPECT_THROW(postgres_conninfo("postgresql://u:%zz@h/d"), std::invalid_argument);
  EXPECT_THROW(postgres_conninfo("postgresql://u:%4@h/d"), std::invalid_argument);
  EXPECT_THROW(postgres_conninfo("postgresql://[::1/d"), std::invalid_argument);
}

}  // namespace
}  // namespace portico::store
