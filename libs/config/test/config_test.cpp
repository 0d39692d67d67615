#include "tickflow/config/config.hpp"

#include <gtest/gtest.h>

namespace tickflow::config {
namespace {

TEST(ConfigTest, DefaultsDependOnTheEnvironment) {
  auto local = ServiceConfig::Load(ServiceId::kSymdb, {}).value();
  EXPECT_EQ(local.Get("listen"), "127.0.0.1:50051");
  EXPECT_EQ(local.settings()[0].source, "default (local)");
  auto cluster = ServiceConfig::Load(ServiceId::kSymdb, {.environment = Environment::kCluster}).value();
  EXPECT_EQ(cluster.Get("listen"), "0.0.0.0:50051");
  EXPECT_EQ(ParseEnvironment("cluster").value(), Environment::kCluster);
  EXPECT_FALSE(ParseEnvironment("prod").ok());
}

TEST(ConfigTest, LayersFileThenEnvThenFlags) {
  LoadInputs in;
  in.file_name = "tickflow.toml";
  in.file_text = "[gateway]\nmax_streams = 10\nlog_level = \"debug\"\nmetrics = \"127.0.0.1:1000\"\n[symdb]\nlisten = \"x:1\"\n";
  in.env = {{"TICKFLOW_GATEWAY_MAX_STREAMS", "20"}, {"TICKFLOW_GATEWAY_METRICS", "127.0.0.1:2000"}, {"HOME", "/root"}};
  in.flags = {{"metrics", "127.0.0.1:3000"}};
  auto c = ServiceConfig::Load(ServiceId::kGateway, in).value();
  EXPECT_EQ(c.Get("log_level"), "debug");    // file
  EXPECT_EQ(c.GetInt("max_streams"), 20);     // env over file
  EXPECT_EQ(c.Get("metrics"), "127.0.0.1:3000");  // flag over env
  EXPECT_EQ(c.Get("bus"), "inproc");          // default
  const std::string printed = c.Print();
  EXPECT_NE(printed.find("max_streams = \"20\""), std::string::npos);
  EXPECT_NE(printed.find("# env TICKFLOW_GATEWAY_MAX_STREAMS"), std::string::npos);
  EXPECT_NE(printed.find("# flag --metrics"), std::string::npos);
  EXPECT_NE(printed.find("# file tickflow.toml"), std::string::npos);
}

TEST(ConfigTest, RedactsSecrets) {
  auto c = ServiceConfig::Load(ServiceId::kGateway, {.env = {{"TICKFLOW_GATEWAY_BUS_PASSWORD", "hunter2"}}}).value();
  EXPECT_EQ(c.Get("bus_password"), "hunter2");
  EXPECT_EQ(c.Print().find("hunter2"), std::string::npos);
  EXPECT_NE(c.Print().find("bus_password = \"<redacted>\""), std::string::npos);
}

TEST(ConfigTest, ValidationNamesKeyValueAndSource) {
  auto bad_env = ServiceConfig::Load(ServiceId::kGateway, {.env = {{"TICKFLOW_GATEWAY_MAX_STREAMS", "many"}}});
  ASSERT_FALSE(bad_env.ok());
  EXPECT_EQ(bad_env.error().message,
            "gateway.max_streams: 'many' (from env TICKFLOW_GATEWAY_MAX_STREAMS) is not a positive integer");
  auto bad_flag = ServiceConfig::Load(ServiceId::kSymdb, {.flags = {{"listen", "localhost"}}});
  ASSERT_FALSE(bad_flag.ok());
  EXPECT_NE(bad_flag.error().message.find("symdb.listen: 'localhost' (from flag --listen) is not HOST:PORT"),
            std::string::npos);
  LoadInputs file;
  file.file_name = "t.toml";
  file.file_text = "[gateway]\nlog_level = \"loud\"\n";
  EXPECT_NE(ServiceConfig::Load(ServiceId::kGateway, file).error().message.find("(from file t.toml) is not one of"),
            std::string::npos);
  file.file_text = "[gateway]\nmax_stream = 3\n";
  EXPECT_NE(ServiceConfig::Load(ServiceId::kGateway, file).error().message.find("unknown key [gateway] max_stream"),
            std::string::npos);
  file.file_text = "[gateway\n";
  auto broken = ServiceConfig::Load(ServiceId::kGateway, file);
  ASSERT_FALSE(broken.ok());
  EXPECT_NE(broken.error().message.find("t.toml: "), std::string::npos);
  EXPECT_NE(broken.error().message.find("line 1"), std::string::npos) << broken.error().message;
  EXPECT_FALSE(ServiceConfig::Load(ServiceId::kGateway, {.flags = {{"nope", "1"}}}).ok());
  EXPECT_FALSE(ServiceConfig::Load(ServiceId::kGateway, {.flags = {{"bus", "tcp://x"}}}).ok());
}

}  // namespace
}  // namespace tickflow::config

namespace tickflow::config {
namespace {

TEST(CredentialsTest, ParsesUserPasswordAndClientId) {
  auto c = ParseCredentials("user = \"client-7\"\npassword = \"s3cret\"\nclient_id = 7\n", "c.creds");
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->user, "client-7");
  EXPECT_EQ(c->password, "s3cret");
  EXPECT_EQ(c->client_id, ClientId{7});
  EXPECT_FALSE(ParseCredentials("user = \"gateway\"\npassword = \"x\"\n", "g").value().client_id.has_value());
  EXPECT_FALSE(c->jetstream_api.has_value());
  auto api = ParseCredentials("user = \"c\"\npassword = \"p\"\njetstream_api = \"qd.js\"\n", "c.creds");
  ASSERT_TRUE(api.ok()) << api.error().message;
  EXPECT_EQ(api->jetstream_api, "qd.js");
}

TEST(CredentialsTest, ErrorsNameTheFileAndWhatIsMissing) {
  auto missing = ParseCredentials("user = \"u\"\n", "a.creds");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message.find("a.creds: needs user"), std::string::npos) << missing.error().message;
  auto bad = ParseCredentials("user = \"u\"\npassword = \"p\"\nclient_id = 70000\n", "b.creds");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("client_id 70000"), std::string::npos);
  EXPECT_EQ(ParseCredentials("user = ", "c.creds").error().code, ErrorCode::kParse);
  auto wild = ParseCredentials("user = \"u\"\npassword = \"p\"\njetstream_api = \"qd.>\"\n", "w.creds");
  ASSERT_FALSE(wild.ok());
  EXPECT_NE(wild.error().message.find("w.creds: jetstream_api 'qd.>'"), std::string::npos) << wild.error().message;
}

}  // namespace
}  // namespace tickflow::config
