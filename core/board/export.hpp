// Export: the board rendered for people (Markdown for an email, CSV for a spreadsheet) or for
// programs (proto3 JSON of the BoardSnapshot). Pure. Takes a board already redacted for its
// reader (visibility.hpp), so hidden text and anonymous authors cannot reach an export.
#pragma once

#include <string>
#include <string_view>

#include "core/common/error.hpp"
#include "huddle/v1/board.pb.h"
#include "huddle/v1/command.pb.h"

namespace huddle::board {

struct ExportDocument {
  std::string content_type;    // With charset.
  std::string file_extension;  // "md", "csv", "json".
  std::string body;
};

// kInvalidArgument for EXPORT_FORMAT_UNSPECIFIED or an unknown value.
[[nodiscard]] Result<ExportDocument> render_export(const huddle::v1::BoardSnapshot& board,
                                                   huddle::v1::ExportFormat format);

// "md" | "markdown" | "csv" | "json" -> the format; UNSPECIFIED otherwise.
[[nodiscard]] huddle::v1::ExportFormat parse_export_format(std::string_view name) noexcept;

}  // namespace huddle::board
