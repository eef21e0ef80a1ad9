# Turns every file of the console folder into an entry of a generated C++ table (name, ETag,
# bytes), so that the browser console ships inside the binary; re-configures when a file changes.
# Text files only (HTML, CSS, JS, SVG): they are embedded as raw string literals.
function(embed_console)
  cmake_parse_arguments(ARG "" "OUTPUT;DIR" "" ${ARGN})
  file(GLOB files CONFIGURE_DEPENDS "${ARG_DIR}/*")
  list(SORT files)
  set(entries "")
  foreach(file IN LISTS files)
    set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS "${file}")
    get_filename_component(name "${file}" NAME)
    file(SHA256 "${file}" hash)
    string(SUBSTRING "${hash}" 0 24 etag)
    file(READ "${file}" text)
    string(FIND "${text}" ")sky_console\"" clash)
    if(NOT clash EQUAL -1)
      message(FATAL_ERROR "${file} contains the raw string delimiter )sky_console\"")
    endif()
    string(APPEND entries
      "  {\"${name}\", \"\\\"${etag}\\\"\", R\"sky_console(${text})sky_console\"},\n")
  endforeach()
  file(WRITE "${ARG_OUTPUT}.tmp"
    "// Generated from src/http/console/*; do not edit.\n"
    "#include \"http/console_routes.hpp\"\n"
    "namespace sky::http {\n"
    "const std::vector<console_file>& console_files() {\n"
    "  static const std::vector<console_file> files{\n${entries}  };\n"
    "  return files;\n}\n}  // namespace sky::http\n")
  configure_file("${ARG_OUTPUT}.tmp" "${ARG_OUTPUT}" COPYONLY)
endfunction()
