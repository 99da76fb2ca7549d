# tests of weft::aio — generator
