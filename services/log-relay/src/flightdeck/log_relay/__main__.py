from flightdeck.log_relay.entrypoints.main import main

main()
