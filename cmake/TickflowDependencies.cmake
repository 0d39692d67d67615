# How each external dependency is found. Shared by the build (CMakeLists.txt)
# and by the installed tickflowConfig.cmake, where a component finds only the
# dependencies of the libraries it loads: a client-only consumer never looks
# for gRPC, libzip or curl.
#
# A key is the name tickflow_add_library derives from a link item
# (PkgConfig::NATS -> NATS, SQLite::SQLite3 -> SQLite3, OpenSSL::Crypto -> OpenSSL).

# pkg-config module of each key, for tickflow.pc and for the keys found through pkg-config.
set(TICKFLOW_PKGCONFIG_OpenSSL libcrypto)
set(TICKFLOW_PKGCONFIG_SQLite3 sqlite3)
set(TICKFLOW_PKGCONFIG_CURL libcurl)
set(TICKFLOW_PKGCONFIG_fmt fmt)
set(TICKFLOW_PKGCONFIG_NATS libnats)  # nats.c; its CMake config names a static library Debian does not ship
set(TICKFLOW_PKGCONFIG_LIBZIP libzip)
set(TICKFLOW_PKGCONFIG_XXHASH libxxhash)
set(TICKFLOW_PKGCONFIG_MHD libmicrohttpd)
set(TICKFLOW_PKGCONFIG_GRPCPP grpc++)
set(TICKFLOW_PKGCONFIG_PROTOBUF protobuf)

# The dependency key of a link item, or "" for a tickflow target or a plain flag.
function(tickflow_dependency_key item out)
  set(key "")
  if(item MATCHES "^PkgConfig::(.+)$")
    set(key ${CMAKE_MATCH_1})
  elseif(item STREQUAL "SQLite::SQLite3")
    set(key SQLite3)
  elseif(item STREQUAL "CURL::libcurl")
    set(key CURL)
  elseif(item MATCHES "^OpenSSL::")
    set(key OpenSSL)
  elseif(item STREQUAL "Threads::Threads")
    set(key Threads)
  elseif(item STREQUAL "fmt::fmt")
    set(key fmt)
  endif()
  set(${out} ${key} PARENT_SCOPE)
endfunction()

# Finds one dependency by its key (idempotent); REQUIRED: a missing one stops
# the configuration with CMake's message naming the package.
macro(tickflow_find_dependency key)
  if("${key}" STREQUAL "Threads")
    if(NOT TARGET Threads::Threads)
      find_package(Threads REQUIRED)
    endif()
  elseif("${key}" STREQUAL "OpenSSL")
    if(NOT TARGET OpenSSL::Crypto)
      find_package(OpenSSL REQUIRED COMPONENTS Crypto)
    endif()
  elseif("${key}" STREQUAL "SQLite3")
    if(NOT TARGET SQLite::SQLite3)
      find_package(SQLite3 REQUIRED)
    endif()
  elseif("${key}" STREQUAL "CURL")
    if(NOT TARGET CURL::libcurl)
      find_package(CURL REQUIRED)
    endif()
  elseif("${key}" STREQUAL "fmt")
    if(NOT TARGET fmt::fmt)
      find_package(fmt REQUIRED)
    endif()
  elseif(DEFINED TICKFLOW_PKGCONFIG_${key})
    if(NOT TARGET PkgConfig::${key})
      find_package(PkgConfig REQUIRED)
      pkg_check_modules(${key} REQUIRED IMPORTED_TARGET GLOBAL ${TICKFLOW_PKGCONFIG_${key}})
    endif()
  else()
    message(FATAL_ERROR "tickflow: unknown dependency key '${key}' (cmake/TickflowDependencies.cmake)")
  endif()
endmacro()
