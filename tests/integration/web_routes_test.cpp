// The web client's files over the real server: the app shell at / and /r/{room}, assets under
// /web/, a strict CSP on each, and nothing outside the web directory.
#include <filesystem>
#include <fstream>
#include <string>

#include <gtest/gtest.h>

#include "tests/support/http_get.hpp"
#include "tests/support/test_server.hpp"

namespace huddle::testing {
namespace {

class WebRoutes : public ::testing::Test {
 protected:
  WebRoutes() {
    std::filesystem::create_directories(web_.path() / "lib");
    write("index.html", "<!doctype html><title>shell</title>");
    write("app.js", "export const x = 1;");
    write("lib/util.js", "export const y = 2;");
    write("style.css", "body{}");
    write("notes.txt", "not a web type");
    write(".secret.js", "hidden");
    std::ofstream(web_.path().parent_path() / "outside.js") << "outside";
    auto options = TestServer::default_options();
    options.net.web_dir = web_.path().string();
    server_ = std::make_unique<TestServer>(options);
  }
  void write(const std::string& name, const std::string& text) {
    std::ofstream(web_.path() / name) << text;
  }
  TempDir web_;
  std::unique_ptr<TestServer> server_;
};

TEST_F(WebRoutes, ShellAndRoomLinksServeIndexWithAStrictPolicy) {
  for (const std::string target : {"/", "/index.html", "/r/q3-pipeline", "/r/q3?x=1"}) {
    const auto res = http_get(server_->port(), target);
    EXPECT_EQ(res.status, 200U) << target;
    EXPECT_EQ(res.body, "<!doctype html><title>shell</title>") << target;
    EXPECT_EQ(res.content_type, "text/html; charset=utf-8") << target;
    EXPECT_NE(res.headers.at("content-security-policy").find("default-src 'self'"),
              std::string::npos);
    EXPECT_EQ(res.headers.at("content-security-policy").find("unsafe-inline"), std::string::npos);
    EXPECT_EQ(res.headers.at("x-content-type-options"), "nosniff");
  }
}

TEST_F(WebRoutes, AssetsByExtension) {
  EXPECT_EQ(http_get(server_->port(), "/web/app.js").content_type,
            "text/javascript; charset=utf-8");
  EXPECT_EQ(http_get(server_->port(), "/web/app.js").body, "export const x = 1;");
  EXPECT_EQ(http_get(server_->port(), "/web/lib/util.js").body, "export const y = 2;");
  EXPECT_EQ(http_get(server_->port(), "/web/style.css").content_type, "text/css; charset=utf-8");
}

TEST_F(WebRoutes, NothingOutsideTheDirectoryOrOfAnUnknownType) {
  for (const std::string target :
       {"/web/notes.txt", "/web/.secret.js", "/web/../outside.js", "/web/lib/../../outside.js",
        "/web/%2e%2e/outside.js", "/web//app.js", "/web/", "/web/missing.js", "/r/", "/r/Bad",
        "/r/a/b", "/r/../outside.js"}) {
    const auto res = http_get(server_->port(), target);
    EXPECT_EQ(res.status, 404U) << target;
    EXPECT_EQ(res.body.find("outside"), std::string::npos) << target;
  }
}

TEST_F(WebRoutes, AMalformedRequestLineGets400) {
  EXPECT_EQ(http_get(server_->port(), "/r/Bad Room").status, 400U);
}

TEST(WebRoutesOff, WithoutAWebDirTheRootIsAPlainNote) {
  TestServer server;  // default_options(): no web dir.
  const auto res = http_get(server.port(), "/");
  EXPECT_EQ(res.status, 200U);
  EXPECT_EQ(res.content_type, "text/plain");
  EXPECT_EQ(http_get(server.port(), "/r/q3").status, 404U);
}

}  // namespace
}  // namespace huddle::testing
