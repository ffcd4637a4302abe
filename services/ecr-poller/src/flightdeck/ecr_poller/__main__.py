from flightdeck.ecr_poller.entrypoints.main import main

main()
