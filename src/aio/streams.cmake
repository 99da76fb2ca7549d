# weft::aio — streams
