#include "tickflow/core/text.hpp"

#include <gtest/gtest.h>

namespace tickflow {
namespace {

TEST(TextTest, PasswordsInUrlsAreHidden) {
  EXPECT_EQ(RedactUrlPassword("nats://gw:s3cret@127.0.0.1:4222"), "nats://gw:***@127.0.0.1:4222");
  EXPECT_EQ(RedactUrlPassword("clickhouse://u:p@h:8123/db"), "clickhouse://u:***@h:8123/db");
  EXPECT_EQ(RedactUrlPassword("nats://gw@127.0.0.1:4222"), "nats://gw@127.0.0.1:4222");
  EXPECT_EQ(RedactUrlPassword("nats://127.0.0.1:4222"), "nats://127.0.0.1:4222");
  EXPECT_EQ(RedactUrlPassword("clickhouse://h:8123/a@b"), "clickhouse://h:8123/a@b");  // '@' after the host
  EXPECT_EQ(RedactUrlPassword("plain text"), "plain text");
}

TEST(TextTest, EscapesForHtmlAndJson) {
  EXPECT_EQ(EscapeHtml("SMA <test> & \"x\""), "SMA &lt;test&gt; &amp; &quot;x&quot;");
  EXPECT_EQ(JsonString("a\"b\\c</script>\n"), "\"a\\\"b\\\\c\\u003c/script>\\u000a\"");
}

TEST(TextTest, EscapesWhatWouldNotPrint) {
  EXPECT_EQ(EscapeForMessage(std::string("a\r\n\t\\\xff", 6) + std::string(1, '\0')), "a\\r\\n\\t\\\\\\xff\\0");
  EXPECT_EQ(DescribeUnusualBytes("\xEF\xBB\xBF" "1,2"), "a UTF-8 byte order mark");
  EXPECT_EQ(DescribeUnusualBytes("plain"), "");
}

}  // namespace
}  // namespace tickflow
