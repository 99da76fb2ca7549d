# tests of weft::aio — sync
