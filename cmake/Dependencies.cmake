# Finds each dependency through pkg-config (or find_library where Debian
# ships no .pc file) and exposes it as an imported target bc::NAME.
# A missing one stops configure with the Debian package to install.
find_package(PkgConfig)
if(NOT PKG_CONFIG_FOUND)
  message(FATAL_ERROR "pkg-config not found: apt-get install -y pkg-config")
endif()

function(bc_pkg target module debian_pkg)
  pkg_check_modules(BC_${target} QUIET IMPORTED_TARGET GLOBAL ${module})
  if(NOT BC_${target}_FOUND)
    message(FATAL_ERROR
      "${module} not found: install it with: apt-get install -y ${debian_pkg}")
  endif()
  add_library(bc::${target} ALIAS PkgConfig::BC_${target})
endfunction()

bc_pkg(curl libcurl libcurl4-openssl-dev)
bc_pkg(xml2 libxml-2.0 libxml2-dev)
bc_pkg(cjson libcjson libcjson-dev)
bc_pkg(zlib zlib zlib1g-dev)
bc_pkg(crypto libcrypto libssl-dev)
bc_pkg(microhttpd libmicrohttpd libmicrohttpd-dev)

# libcsv-dev ships no pkg-config file.
find_path(BC_CSV_INCLUDE csv.h)
find_library(BC_CSV_LIBRARY csv)
if(NOT BC_CSV_INCLUDE OR NOT BC_CSV_LIBRARY)
  message(FATAL_ERROR "libcsv not found: install it with: apt-get install -y libcsv-dev")
endif()
add_library(bc_csv INTERFACE)
target_include_directories(bc_csv INTERFACE ${BC_CSV_INCLUDE})
target_link_libraries(bc_csv INTERFACE ${BC_CSV_LIBRARY})
add_library(bc::csv ALIAS bc_csv)
