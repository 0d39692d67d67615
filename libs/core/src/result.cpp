#include "tickflow/core/result.hpp"

namespace tickflow {

std::string_view ToString(ErrorCode code) {
  switch (code) {
    case ErrorCode::kInvalidArgument: return "invalid argument";
    case ErrorCode::kNotFound: return "not found";
    case ErrorCode::kParse: return "parse error";
    case ErrorCode::kIo: return "I/O error";
    case ErrorCode::kCorrupt: return "corrupt data";
    case ErrorCode::kOutOfRange: return "out of range";
    case ErrorCode::kAlreadyExists: return "already exists";
    case ErrorCode::kUnavailable: return "unavailable";
    case ErrorCode::kCancelled: return "cancelled";
    case ErrorCode::kPermissionDenied: return "permission denied";
    case ErrorCode::kBusy: return "busy";
    case ErrorCode::kInternal: return "internal error";
  }
  return "unknown error";
}

}  // namespace tickflow
