from flightdeck.gateway.entrypoints.main import main

main()
