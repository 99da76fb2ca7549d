# tests of weft::aio — streams
