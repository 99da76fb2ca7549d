// weft/greenlet.hpp — Python's greenlet for C++: stackful coroutines that
// switch explicitly (greenlet, getcurrent, GreenletExit, green::error).
// gevent's scheduling on top of them is <weft/gevent.hpp>.
#pragma once

#include "weft/green/greenlet.hpp"
