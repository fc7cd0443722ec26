# Warnings of STYLE.md; -Werror when BC_WERROR is on (CI and scripts/test).
option(BC_WERROR "Treat warnings as errors" OFF)
function(bc_warnings target)
  target_compile_options(${target} PRIVATE
    -Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wstrict-prototypes
    -Wmissing-prototypes -Wformat=2 -Wvla)
  if(BC_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()
