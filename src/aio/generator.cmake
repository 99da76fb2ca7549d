# weft::aio — generator
