# BC_SANITIZE=ON builds everything with AddressSanitizer and UBSan.
option(BC_SANITIZE "Build with -fsanitize=address,undefined" OFF)
if(BC_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer
    -fno-sanitize-recover=undefined)
  add_link_options(-fsanitize=address,undefined)
endif()
