# weft::aio — generator: header-only (include/weft/aio/generator.hpp), no
# sources.
