# The Redis client: URLs, replies, connections that reconnect; key names.
target_sources(weft_dist PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/redis_url.cpp
  ${CMAKE_CURRENT_LIST_DIR}/redis_connection.cpp
  ${CMAKE_CURRENT_LIST_DIR}/wire.cpp)
