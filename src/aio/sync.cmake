# weft::aio — sync
