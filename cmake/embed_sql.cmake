# Turns every .sql file in the given folders into an entry of a generated C++ table, so that
# migrations and queries ship inside the binary and re-configure when a file changes.
function(embed_sql)
  cmake_parse_arguments(ARG "" "OUTPUT" "DIRS" ${ARGN})
  set(entries "")
  foreach(dir IN LISTS ARG_DIRS)
    file(GLOB files CONFIGURE_DEPENDS "${dir}/*.sql")
    list(SORT files)
    get_filename_component(kind "${dir}" NAME)
    foreach(file IN LISTS files)
      # Editing a .sql file must re-run the embedding, not only adding or removing one.
      set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS "${file}")
      get_filename_component(name "${file}" NAME)
      file(READ "${file}" text)
      string(APPEND entries "  {\"${kind}/${name}\", R\"sky_sql(${text})sky_sql\"},\n")
    endforeach()
  endforeach()
  file(WRITE "${ARG_OUTPUT}.tmp"
    "// Generated from src/persistence/{migrations,queries}/*.sql; do not edit.\n"
    "#include \"persistence/sql_catalog.hpp\"\n"
    "namespace sky::persistence {\n"
    "const std::vector<embedded_sql_file>& embedded_sql_files() {\n"
    "  static const std::vector<embedded_sql_file> files{\n${entries}  };\n"
    "  return files;\n}\n}  // namespace sky::persistence\n")
  configure_file("${ARG_OUTPUT}.tmp" "${ARG_OUTPUT}" COPYONLY)
endfunction()
