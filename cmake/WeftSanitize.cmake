# WEFT_SANITIZE=address|thread|undefined|address,undefined instruments every
# target of this build (library, tests, examples, benchmarks).
if(WEFT_SANITIZE)
  set(_weft_san_flags -fsanitize=${WEFT_SANITIZE} -fno-omit-frame-pointer -g)
  if(WEFT_SANITIZE MATCHES "undefined")
    list(APPEND _weft_san_flags -fno-sanitize-recover=undefined)
  endif()
  add_compile_options(${_weft_san_flags})
  add_link_options(-fsanitize=${WEFT_SANITIZE})
  message(STATUS "weft: building with -fsanitize=${WEFT_SANITIZE}")
endif()
