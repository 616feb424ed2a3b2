#pragma once

#include <string_view>

namespace clinicore::core {

// Strict UTF-8 (RFC 3629): no overlong forms, no UTF-16 surrogates (U+D800–U+DFFF), nothing
// above U+10FFFF, no truncated sequence. Text that passes can be stored in PostgreSQL and
// written into JSON without an error.
bool IsValidUtf8(std::string_view text);

// Valid UTF-8 with no NUL and no C0 control or DEL (a horizontal tab is allowed when
// `allow_tab`): what may stand in a path, a query value or a header value.
bool IsPrintableUtf8(std::string_view text, bool allow_tab = false);

}  // namespace clinicore::core
