# weft::aio — generators: header-only (include/weft/aio/generator.hpp and
# async_generator.hpp), no sources.
