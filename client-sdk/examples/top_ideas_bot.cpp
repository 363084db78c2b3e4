// top_ideas_bot: joins a room, reads the board from its mirror, and posts the top-voted ideas
// to the room's chat, for a sales team wrapping up a vote.
//
//   top_ideas_bot ws://127.0.0.1:8080/ws ROOM [N]
#include <algorithm>
#include <future>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include "huddle/client.hpp"

int main(int argc, char** argv) {
  if (argc < 3) {
    std::cerr << "usage: top_ideas_bot URL ROOM [N]\n";
    return 2;
  }
  const std::string room = argv[2];
  const int top = argc > 3 ? std::max(1, std::stoi(argv[3])) : 3;

  boost::asio::io_context io;
  auto work = boost::asio::make_work_guard(io);
  std::thread runner([&] { io.run(); });
  huddle::ClientOptions options;
  options.url = argv[1];
  options.display_name = "Summary Bot";
  options.member_id = "summary-bot";
  huddle::Client client(io.get_executor(), options);
  client.start();

  // The board is usable once the join's snapshot is in the mirror.
  auto ready = std::make_shared<std::promise<void>>();
  client.join(room, {.on_ready = [ready](const huddle::BoardMirror&) { ready->set_value(); }});
  int status = 0;
  if (ready->get_future().wait_for(std::chrono::seconds(10)) != std::future_status::ready) {
    std::cerr << "top_ideas_bot: cannot join " << room << "\n";
    status = 1;
  } else {
    auto board = client.board(room).get();
    std::vector<const huddle::v1::Idea*> ideas;
    for (const auto& idea : board.ideas()) {
      if (!idea.hidden()) {
        ideas.push_back(&idea);
      }
    }
    std::stable_sort(ideas.begin(), ideas.end(), [](const auto* a, const auto* b) {
      return a->vote_count() > b->vote_count();
    });
    std::string summary = "Top ideas:";
    for (int i = 0; i < top && i < static_cast<int>(ideas.size()); ++i) {
      summary += " " + std::to_string(i + 1) + ". " + ideas[static_cast<std::size_t>(i)]->text() +
                 " (" + std::to_string(ideas[static_cast<std::size_t>(i)]->vote_count()) +
                 " votes)";
    }
    if (ideas.empty()) {
      summary += " none yet";
    }
    auto posted = client.post_chat(room, summary.substr(0, 4000)).get();
    std::cout << (posted.ok() ? summary : "top_ideas_bot: " + posted.message) << "\n";
    status = posted.ok() ? 0 : 1;
  }
  client.stop();
  work.reset();
  runner.join();
  return status;
}
