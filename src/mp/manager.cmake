# The manager: its server, its clients and proxies, and the containers it holds.
target_sources(weft PRIVATE
  manager.cpp manager_channel.cpp manager_client.cpp manager_server.cpp manager_containers.cpp manager_order.cpp)
